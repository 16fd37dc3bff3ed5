// Reading and writing the HNSW graph file (see hnsw-file.h), through buffered stdio.
#include "hnsw-file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>
#if !defined(_MSC_VER)
#include <sys/types.h>
#endif

#include "crc32.h"

namespace quiver {
namespace {

// Bytes read (and checksummed) at a time: whole elements up to this size, so that a piece is
// checked while it is still in the cache.
constexpr std::size_t kPieceBytes = std::size_t{1} << 20;

// A read-only file, or a range of one: buffered, closed on every path out. With a range, reading
// starts at its offset, never goes past its end, and keeps the CRC-32 of every byte read.
class GraphFileReader {
 public:
  explicit GraphFileReader(const std::string& path) : path_(path), file_(Open(path)) {}
  GraphFileReader(const std::string& path, const GraphRange& range)
      : path_(path), file_(Open(path)), ranged_(true), remaining_(range.length), crc_(range.crc_seed) {
#if defined(_MSC_VER)
    const bool placed = _fseeki64(file_, static_cast<__int64>(range.offset), SEEK_SET) == 0;
#else
    const bool placed = range.offset <= static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()) &&
                        fseeko(file_, static_cast<off_t>(range.offset), SEEK_SET) == 0;
#endif
    if (!placed) {
      std::fclose(file_);
      throw std::runtime_error("cannot read " + path + " from byte " + std::to_string(range.offset));
    }
  }
  ~GraphFileReader() { std::fclose(file_); }
  GraphFileReader(const GraphFileReader&) = delete;
  GraphFileReader& operator=(const GraphFileReader&) = delete;

  void Read(void* into, std::size_t bytes) {
    if (ranged_ && bytes > remaining_) Fail("it ends early");
    if (std::fread(into, 1, bytes, file_) != bytes) Fail("it ends early");
    if (ranged_) {
      remaining_ -= bytes;
      crc_ = Crc32(into, bytes, crc_);
    }
  }
  template <typename T>
  T Read() {
    T value;
    Read(&value, sizeof(T));
    return value;
  }
  // Every byte left: the rest of the range, or of the file.
  std::vector<char> ReadRest() {
    std::vector<char> rest;
    if (ranged_) {
      rest.resize(static_cast<std::size_t>(remaining_));
      Read(rest.data(), rest.size());
      return rest;
    }
    char piece[1 << 16];
    for (;;) {
      const std::size_t read = std::fread(piece, 1, sizeof piece, file_);
      rest.insert(rest.end(), piece, piece + read);
      if (read < sizeof piece) break;
    }
    if (std::ferror(file_) != 0) Fail("it cannot be read");
    return rest;
  }
  std::uint32_t Crc() const { return crc_; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error("the graph file " + path_ + " is corrupted or not an HNSW graph: " + what);
  }

 private:
  static std::FILE* Open(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) throw std::runtime_error("cannot open " + path);
    std::setvbuf(file, nullptr, _IOFBF, kPieceBytes);
    return file;
  }

  const std::string path_;
  std::FILE* const file_;
  const bool ranged_ = false;
  std::uint64_t remaining_ = 0;
  std::uint32_t crc_ = 0;
};

// A file written from the start: buffered; a failed write or close throws, and the file is
// closed on every path out.
class GraphFileWriter {
 public:
  explicit GraphFileWriter(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) Fail();
    std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
  }
  ~GraphFileWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  GraphFileWriter(const GraphFileWriter&) = delete;
  GraphFileWriter& operator=(const GraphFileWriter&) = delete;

  void Write(const void* from, std::size_t bytes) {
    if (bytes > 0 && std::fwrite(from, 1, bytes, file_) != bytes) Fail();
  }
  template <typename T>
  void Write(const T& value) {
    Write(&value, sizeof(T));
  }
  void Close() {
    std::FILE* file = file_;
    file_ = nullptr;
    if (std::fclose(file) != 0) Fail();
  }

 private:
  [[noreturn]] void Fail() const {
    throw std::runtime_error("cannot write the graph file " + path_ + ": " + std::strerror(errno));
  }

  const std::string path_;
  std::FILE* file_;
};

// True when a stored link list (a header, then ids) holds at most `most` ids, all below `count`.
bool LinksValid(const LinkHeader* links, std::size_t most, std::size_t count) {
  const std::size_t size = HnswStore::LinkCount(links);
  if (size > most) return false;
  const NodeId* ids = HnswStore::LinkIds(links);
  for (std::size_t i = 0; i < size; i++) {
    if (ids[i] >= count) return false;
  }
  return true;
}

}  // namespace

// hnswlib's own loader first walks the file to check its length with a seek and two position
// queries per element, each of which drops the stream's buffer: for 100,000 elements of 128 floats
// that walk re-reads most of the file in small pieces, most of the time of a load. This reader
// checks as it goes, in one pass.
namespace {

// An int8 graph passes its `vector_bytes` and `distance_params` (HnswStore's int8 constructor); 0 and
// null mean `dim` floats.
std::unique_ptr<HnswStore> ReadGraph(std::size_t dim, HnswDistance distance, GraphFileReader& file,
                                     std::size_t vector_bytes, const void* distance_params, PendingVectors* pending) {
  auto store = vector_bytes == 0 ? std::make_unique<HnswStore>(dim, distance)
                                 : std::make_unique<HnswStore>(dim, distance, vector_bytes, distance_params);
  const auto layer0_offset = file.Read<std::size_t>();
  const auto capacity = file.Read<std::size_t>();
  const auto count = file.Read<std::size_t>();
  const auto element_bytes = file.Read<std::size_t>();
  const auto label_offset = file.Read<std::size_t>();
  const auto vector_offset = file.Read<std::size_t>();
  store->top_layer = file.Read<int>();
  store->entry = file.Read<NodeId>();
  const auto max_links = file.Read<std::size_t>();
  const auto max_links0 = file.Read<std::size_t>();
  store->m = file.Read<std::size_t>();
  store->level_mult = file.Read<double>();
  store->ef_construction = file.Read<std::size_t>();

  if (max_links0 > 0xFFFFu || max_links > 0xFFFFu || max_links == 0) {
    file.Fail("its link lists hold " + std::to_string(max_links) + " and " + std::to_string(max_links0) + " ids");
  }
  store->SetLayout(max_links, max_links0);
  if (layer0_offset != 0 || vector_offset != store->vector_offset || label_offset != store->label_offset ||
      element_bytes != store->element_bytes) {
    throw std::runtime_error("the graph file's elements do not hold vectors of dim " + std::to_string(dim));
  }
  if (count > capacity || capacity > std::numeric_limits<std::size_t>::max() / store->element_bytes) {
    file.Fail("it holds " + std::to_string(count) + " elements in a capacity of " + std::to_string(capacity));
  }
  if (count > 0 && (store->entry >= count || store->top_layer < 0)) file.Fail("its entry point is not an element");
  // The file's capacity, or none for an empty graph (as hnswlib's loader).
  store->Allocate(count > 0 ? capacity : 0);

  // The elements, a piece of whole elements at a time, each piece checked (links, label map, deleted
  // flag) right after it is read and checksummed, while it is still in the cache.
  store->label_lookup.reserve(count);
  std::size_t deleted = 0;
  // Without vectors, an element comes as its layer-0 list, label and vector checksum, read into
  // `compact` a piece at a time and spread into place.
  const std::size_t compact_bytes = store->vector_offset + sizeof(StoredLabel) + sizeof(std::uint32_t);
  const std::size_t file_element_bytes = pending != nullptr ? compact_bytes : store->element_bytes;
  const std::size_t piece_elements = std::max<std::size_t>(1, kPieceBytes / file_element_bytes);
  std::vector<char> compact;
  if (pending != nullptr) {
    compact.resize(std::min(count, piece_elements) * compact_bytes);
    pending->crc.assign(count, 0);
    pending->filled.assign(count, 0);
  }
  for (std::size_t first = 0; first < count; first += piece_elements) {
    const std::size_t last = std::min(count, first + piece_elements);
    if (pending == nullptr) {
      file.Read(store->elements + first * store->element_bytes, (last - first) * store->element_bytes);
    } else {
      file.Read(compact.data(), (last - first) * compact_bytes);
      for (std::size_t i = first; i < last; i++) {
        const char* from = compact.data() + (i - first) * compact_bytes;
        char* element = store->Element(static_cast<NodeId>(i));
        std::memcpy(element, from, store->vector_offset);
        std::memcpy(element + store->label_offset, from + store->vector_offset, sizeof(StoredLabel));
        std::memcpy(&pending->crc[i], from + store->vector_offset + sizeof(StoredLabel), sizeof(std::uint32_t));
      }
    }
    for (std::size_t i = first; i < last; i++) {
      const auto node = static_cast<NodeId>(i);
      if (!LinksValid(store->Links0(node), store->max_links0, count)) {
        file.Fail("element " + std::to_string(i) + "'s layer-0 links");
      }
      store->label_lookup[store->Label(node)] = node;
      deleted += store->IsDeleted(node) ? 1 : 0;
    }
  }
  // The deleted elements' vectors, which no record holds, each checked against its checksum.
  if (pending != nullptr) {
    for (std::size_t i = 0; i < count; i++) {
      const auto node = static_cast<NodeId>(i);
      if (!store->IsDeleted(node)) continue;
      char* vector = store->Element(node) + store->vector_offset;
      file.Read(vector, store->vector_bytes);
      if (Crc32(vector, store->vector_bytes, 0) != pending->crc[i]) {
        file.Fail("deleted element " + std::to_string(i) + "'s vector");
      }
      pending->filled[i] = 1;
    }
  }

  // The upper layers: per element a uint32 byte count and its lists, read in one piece (a few bytes
  // per element; far fewer reads than one per element) and parsed from memory.
  const std::vector<char> rest = file.ReadRest();
  std::size_t at = 0;
  const auto take = [&](std::size_t bytes) {
    if (rest.size() - at < bytes) file.Fail("it ends early");
    const char* from = rest.data() + at;
    at += bytes;
    return from;
  };
  for (std::size_t i = 0; i < count; i++) {
    const auto node = static_cast<NodeId>(i);
    std::uint32_t bytes;
    std::memcpy(&bytes, take(sizeof bytes), sizeof bytes);
    if (bytes % store->links_bytes != 0) file.Fail("element " + std::to_string(i) + "'s upper links");
    const int levels = static_cast<int>(bytes / store->links_bytes);
    if (levels > store->top_layer) file.Fail("element " + std::to_string(i) + " is above the top layer");
    if (levels > 0) {
      const char* lists = take(bytes);
      store->upper[i].reset(new (std::nothrow) char[bytes]);
      if (!store->upper[i]) throw std::runtime_error("out of memory for the graph");
      store->levels[i] = levels;
      std::memcpy(store->upper[i].get(), lists, bytes);
      for (int layer = 1; layer <= levels; layer++) {
        if (!LinksValid(store->UpperLinks(node, layer), store->max_links, count)) {
          file.Fail("element " + std::to_string(i) + "'s links on layer " + std::to_string(layer));
        }
      }
    }
  }
  if (at != rest.size()) file.Fail("bytes follow its last element");
  // The descent reads the entry point's lists from the top layer down, and each neighbour's on the
  // layer it was reached on: a list the node does not have would be read out of bounds.
  if (count > 0 && store->levels[store->entry] != store->top_layer) file.Fail("its entry point is not on the top layer");
  for (std::size_t i = 0; i < count; i++) {
    const auto node = static_cast<NodeId>(i);
    for (int layer = 1; layer <= store->levels[i]; layer++) {
      const LinkHeader* links = store->UpperLinks(node, layer);
      const NodeId* ids = HnswStore::LinkIds(links);
      for (std::size_t j = 0; j < HnswStore::LinkCount(links); j++) {
        if (store->levels[ids[j]] < layer) {
          file.Fail("element " + std::to_string(i) + " links on layer " + std::to_string(layer) + " to element " +
                    std::to_string(ids[j]) + ", which is not on that layer");
        }
      }
    }
  }
  store->count = count;
  store->deleted = deleted;
  // One set of visit marks (2 bytes per node of capacity, zeroed) for the first search, made now as
  // hnswlib's loader makes its visited list: the first query after an open would otherwise pay for
  // it (about a millisecond at a million nodes).
  { VisitedPool::Lease primed = store->visited->Acquire(); }
  return store;
}

}  // namespace

std::unique_ptr<HnswStore> ReadGraphFile(std::size_t dim, HnswDistance distance, const std::string& path,
                                         std::size_t vector_bytes, const void* distance_params) {
  GraphFileReader file(path);
  return ReadGraph(dim, distance, file, vector_bytes, distance_params, nullptr);
}

std::unique_ptr<HnswStore> ReadGraphRange(std::size_t dim, HnswDistance distance, const std::string& path,
                                          const GraphRange& range, std::size_t vector_bytes,
                                          const void* distance_params, PendingVectors* pending) {
  GraphFileReader file(path, range);
  auto store = ReadGraph(dim, distance, file, vector_bytes, distance_params, pending);
  // Checked last, over every byte: a damaged vector passes every structural check above.
  if (file.Crc() != range.crc_expected) {
    throw std::runtime_error("the snapshot " + path + " is damaged: its payload checksum is wrong");
  }
  return store;
}

void WriteGraphFile(const HnswStore& store, const std::string& path, bool vectors) {
  GraphFileWriter file(path);
  const std::size_t count = store.count;
  file.Write(std::size_t{0});  // layer-0 links at the start of each element
  file.Write(store.capacity);
  file.Write(count);
  file.Write(store.element_bytes);
  file.Write(store.label_offset);
  file.Write(store.vector_offset);
  file.Write(store.top_layer);
  file.Write(store.entry);
  file.Write(store.max_links);
  file.Write(store.max_links0);
  file.Write(store.m);
  file.Write(store.level_mult);
  file.Write(store.ef_construction);
  if (vectors) {
    file.Write(store.elements, count * store.element_bytes);
  } else {
    for (std::size_t i = 0; i < count; i++) {
      const char* element = store.Element(static_cast<NodeId>(i));
      file.Write(element, store.vector_offset);
      file.Write(element + store.label_offset, sizeof(StoredLabel));
      file.Write(Crc32(element + store.vector_offset, store.vector_bytes, 0));
    }
    for (std::size_t i = 0; i < count; i++) {
      const auto node = static_cast<NodeId>(i);
      if (store.IsDeleted(node)) file.Write(store.Vector(node), store.vector_bytes);
    }
  }
  for (std::size_t i = 0; i < count; i++) {
    const int level = store.levels[i];
    const std::uint32_t bytes = level > 0 ? static_cast<std::uint32_t>(store.links_bytes * static_cast<std::size_t>(level)) : 0;
    file.Write(bytes);
    if (bytes > 0) file.Write(store.upper[i].get(), bytes);
  }
  file.Close();
}

}  // namespace quiver
