// The HNSW graph file: hnswlib's format (Apache-2.0; see NOTICE), so that files move between
// QuiverDB and hnswlib-node, and QuiverDB's snapshots written before it had its own graph open.
// All fields are native-endian. A header of
//   size_t layer-0 offset (0), size_t capacity, size_t element count, size_t element bytes,
//   size_t label offset, size_t vector offset, int top layer, uint32 entry point,
//   size_t upper-layer links (M), size_t layer-0 links (2M), size_t M, double level multiplier,
//   size_t efConstruction;
// then the element blocks of hnsw-store.h for every element; then per element a uint32 byte count
// and that many bytes of its upper-layer link lists (0 for a node on layer 0 only).
//
// The same file without vectors (QuiverDB's own, for snapshots of float graphs, whose vectors the
// records hold): the same header; then per element its layer-0 link list, its label (size_t) and
// the CRC-32 of its stored vector (uint32); then the stored vectors of the deleted elements (which
// no record holds), in element order; then the upper-layer lists as above. A graph read from it
// awaits its live vectors (PendingVectors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hnsw-space.h"
#include "hnsw-store.h"

namespace quiver {

// Reads a graph file into a new store over vectors of `dim` floats scored by `distance`, with the
// file's capacity (none for an empty graph), in one sequential pass. Everything is checked before
// use: the header fits, the elements have the layout of `dim` floats, each element's upper layers
// come as whole link lists, every link list is within its layer's degree and names elements of the
// graph, the entry point is one, and the file ends where the last list does. Throws "cannot open"
// for a missing file, "does not hold vectors of dim" for another dim, and "is corrupted or not an
// HNSW graph: ..." for anything else. An int8 graph passes its `vector_bytes` and `distance_params`
// (HnswStore's int8 constructor); 0 and null mean `dim` floats.
std::unique_ptr<HnswStore> ReadGraphFile(std::size_t dim, HnswDistance distance, const std::string& path,
                                         std::size_t vector_bytes = 0, const void* distance_params = nullptr);

// Where a graph file lies inside a larger file (a QuiverDB snapshot): `length` bytes from `offset`,
// and the CRC-32 the bytes before it start (`crc_seed`) and the whole payload must end at.
struct GraphRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint32_t crc_seed = 0;
  std::uint32_t crc_expected = 0;
};

// The vectors a graph read from a file without vectors still awaits: per element the CRC-32 its
// stored vector had when it was written, and whether it has its vector again (the deleted elements'
// come with the file).
struct PendingVectors {
  std::vector<std::uint32_t> crc;
  std::vector<std::uint8_t> filled;
};

// ReadGraphFile over `range` of the file at `path`, in the same one pass, straight into the new
// store (no copy of the file), checksumming every byte as it is read: the graph must fill the range
// exactly, and the CRC-32 of its bytes continued from `crc_seed` must be `crc_expected`, or it
// throws "... is damaged: its payload checksum is wrong" and no store is returned. With `pending`,
// the range holds the graph without vectors: the live elements' vectors are left zero and `pending`
// says what they must be.
std::unique_ptr<HnswStore> ReadGraphRange(std::size_t dim, HnswDistance distance, const std::string& path,
                                          const GraphRange& range, std::size_t vector_bytes = 0,
                                          const void* distance_params = nullptr, PendingVectors* pending = nullptr);

// Writes `store` to `path` (replacing it) in the same format, or without its live vectors (see
// above). Throws when the file cannot be written in full.
void WriteGraphFile(const HnswStore& store, const std::string& path, bool vectors = true);

}  // namespace quiver
