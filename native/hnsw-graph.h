// HnswGraph: one HNSW graph (an HnswStore, hnsw-store.h, in hnswlib's layout and file format)
// behind a readers-writer lock, with batched inserts and searches on the thread pool. Knows
// nothing of Node-API. Errors are thrown as std::runtime_error with a one-line message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "hnsw-file.h"
#include "hnsw-space.h"

namespace quiver {

class HnswStore;
class ScalarQuantiser;

// The spaces of hnswlib-node: `cosine` is inner product over vectors normalised on the way in.
enum class HnswSpace { kL2 = 0, kInnerProduct = 1, kCosine = 2 };

// The distance kernels a graph runs on: QuiverDB's run-time-chosen ones (hnsw-space.h, the
// default), or ones that add in hnswlib's order (hnsw-space.h), with which (and
// HnswSearchLoop::kHnswlib) a graph is bit-identical to hnswlib-node's (the tests' reference for
// the graph machinery).
enum class HnswKernels { kDispatched = 0, kHnswlib = 1 };

// How queries (on layer 0) and inserts (on every layer) search the graph when no node is deleted
// and there is no filter: over one sorted candidate list (kSorted, the default; hnsw-search.h's
// SortedSearch), or with hnswlib's two heaps (kHnswlib: searchBaseLayerST and searchBaseLayer
// step for step). Both find the same nodes, and so build the same graph, unless
// distances tie. Filtered searches, and searches and inserts on graphs with deleted nodes, always
// take hnswlib's.
enum class HnswSearchLoop { kSorted = 0, kHnswlib = 1 };

// Result label of an empty result slot (fewer than k live, allowed nodes were found).
constexpr std::uint32_t kNoLabel = 0xFFFFFFFFu;

// An allow-list over labels: bit (label mod bits) of element (label / bits) of `elements`, where an
// element is a byte (bits 8) or a uint32 (bits 32), least significant bit first. Labels past the
// end are not allowed. Null `elements` means no filter.
struct AllowList {
  const void* elements = nullptr;
  std::size_t element_count = 0;
  unsigned bits = 8;
};

// Locking: lock_ is a std::shared_mutex over store_.
//   exclusive: Init, Load and LoadRange (the swap only; the file is read unlocked), FillVectors,
//              FinishFill, Resize, AddBatch (one chunk at a time, so searches interleave between
//              chunks), MarkDelete, Dispose;
//   shared:    SearchBatch, ExactAmong, ReadVectors, StoredDistances, Save, Labels, CurrentCount,
//              MaxElements.
// Inserts may run side by side (they lock per node and per label, hnsw-insert.h), but not beside
// a search or a resize; the lock enforces exactly that. The pool threads of an
// AddBatch or SearchBatch run under the lock held by the calling thread and take no lock of ours.
// std::shared_mutex makes no fairness promise (glibc's prefers readers): a steady stream of
// overlapping searches can hold an insert back until the stream pauses.
class HnswGraph {
 public:
  HnswGraph(HnswSpace space, std::size_t dim, HnswKernels kernels = HnswKernels::kDispatched,
            HnswSearchLoop loop = HnswSearchLoop::kSorted);
  // An int8 graph: vectors are stored as the codes of `quantiser` (scalar-quantiser.h) and scored
  // by its kernels, AVX2 (kDispatched) or portable (kHnswlib): queries (and inserted vectors
  // against the graph) by the query → stored ones, stored vectors against each other by the
  // symmetric ones. With `legacy_norms`, graphs loaded from files are of the ranges block's format
  // version 1, whose l2 codes carry the bias in their slot: Load and LoadRange recompute the norms.
  HnswGraph(HnswSpace space, std::size_t dim, HnswKernels kernels, HnswSearchLoop loop,
            std::unique_ptr<const ScalarQuantiser> quantiser, bool legacy_norms = false);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  std::size_t dim() const { return dim_; }

  // A new empty graph (replacing any previous one), as hnswlib-node's initIndex with
  // allowReplaceDeleted false: efConstruction is raised to at least m.
  void Init(std::size_t max_elements, std::size_t m, std::size_t ef_construction, std::size_t seed);
  // Replaces the graph by the one in `path` (hnsw-file.h). Throws when the file is unreadable or
  // holds vectors of another dim.
  void Load(const std::string& path);
  // Replaces the graph by the one in `range` of a snapshot file at `path`, checksummed as it is
  // read (ReadGraphRange): on any failure, damage included, the graph is left as it was.
  // With `without_vectors` (float graphs only), the range holds the graph without its live vectors
  // (hnsw-file.h): until FinishFill, only Labels, CurrentCount, MaxElements, FillVectors and
  // FinishFill may be called.
  void LoadRange(const std::string& path, const GraphRange& range, bool without_vectors = false);
  // Writes the graph file, or (float graphs only) the graph without its live vectors.
  void Save(const std::string& path, bool vectors = true) const;
  // Gives a graph loaded without vectors the rows of `count` labels (count × dim floats as bytes, in
  // any alignment), stored as inserts store them (normalised for cosine). Returns the labels whose
  // stored row's CRC-32 differs from the one written with the graph, and those the graph does not
  // await (absent, deleted in it, or given before): the caller decides whether the log explains them.
  std::vector<std::uint32_t> FillVectors(const std::uint32_t* labels, std::size_t count, const unsigned char* rows);
  // Ends the fill: returns the live labels that got no row, whose vectors become the mean of their
  // filled layer-0 neighbours' (for the log replay to delete them); the graph is usable again.
  std::vector<std::uint32_t> FinishFill();
  void Resize(std::size_t max_elements);

  // Inserts `count` rows of `vectors` (count × dim floats) under `labels`; a label already in the
  // graph is updated (and undeleted). With threads == 1 the rows go in one by one, in order, on
  // the calling thread: the graph is then identical to hnswlib-node's for the same calls (with
  // the 'hnswlib' kernels and loop), or to one built with the other loop (with the same kernels). With
  // more threads the order of inserts, and so the graph, varies from run to run. Throws, before
  // inserting anything, when the new labels would not fit in max elements.
  void AddBatch(const float* vectors, const std::uint32_t* labels, std::size_t count, std::size_t threads);
  // Marks `label` deleted; throws when the label is not in the graph or already deleted.
  void MarkDelete(std::uint32_t label);
  // For each of `count` queries: the k nearest live (and allowed) labels, best first, into
  // labels[q * k ...] and distances[q * k ...]; missing results are kNoLabel / +infinity. The
  // search effort is max(ef, k), as hnswlib-node's setEf(ef) + searchKnn(k).
  void SearchBatch(const float* queries, std::size_t count, std::size_t k, std::size_t ef, std::size_t threads,
                   const AllowList& allow, std::uint32_t* labels, float* distances) const;

  // Exact k-NN of one query among `count` labels of the graph, scored with the graph's own query
  // distance function (as searches score) over its stored vectors (no copy): the k best into out_labels / out_distances, best
  // first, ties to the lower label (NaN as +infinity), padded with kNoLabel / +infinity. Long lists
  // are split over up to `threads` threads; the answer is the same for every thread count. Throws
  // for a label not in the graph.
  void ExactAmong(const float* query, const std::uint32_t* labels, std::size_t count, std::size_t k,
                  std::size_t threads, std::uint32_t* out_labels, float* out_distances) const;
  // Copies the stored vectors of `count` labels into out[i * dim ...] (cosine graphs store them
  // normalised; an int8 graph's are decoded). Throws when a label is not in the graph.
  void ReadVectors(const std::uint32_t* labels, std::size_t count, float* out) const;
  // The stored ↔ stored distance (the kernel of the neighbour heuristic) between the vectors of
  // first[i] and second[i], for i < count, into out[i]. Throws when a label is not in the graph.
  void StoredDistances(const std::uint32_t* first, const std::uint32_t* second, std::size_t count, float* out) const;
  // Every label in the graph, deleted ones included, ascending.
  std::vector<std::uint32_t> Labels() const;
  std::size_t CurrentCount() const;
  std::size_t MaxElements() const;
  // Frees the graph; later calls throw.
  void Dispose();

 private:
  HnswStore& Open() const;   // throws when not initialised or disposed
  HnswStore& Ready() const;  // Open, and throws while the graph awaits its vectors
  // A row as the store sees it: `stored`, the row itself, normalised for cosine, or its int8 codes
  // (for an int8 graph only when `stored` is asked for, else null); `query`, the form the query →
  // stored kernel reads (for float graphs `stored` again; for int8 ones an Int8Query). Both in
  // thread-local buffers valid until the next call on the same thread.
  struct PreparedRow {
    const void* stored;
    const void* query;
  };
  PreparedRow Prepared(const float* row, bool stored) const;
  // Sets an int8 store's query kernel and, for a graph loaded from a version-1 file, its norms.
  void Adopt(HnswStore& store, bool loaded) const;

  const HnswSpace space_kind_;
  const std::size_t dim_;
  const HnswSearchLoop loop_;
  const HnswDistance distance_;
  const HnswDistance query_distance_;
  const std::unique_ptr<const ScalarQuantiser> quantiser_;  // null for float vectors
  const bool legacy_norms_;
  mutable std::shared_mutex lock_;
  std::unique_ptr<HnswStore> store_;  // guarded by lock_
  std::unique_ptr<PendingVectors> pending_;  // guarded by lock_: set from LoadRange to FinishFill
};

}  // namespace quiver
