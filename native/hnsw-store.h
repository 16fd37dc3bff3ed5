// HnswStore: the memory of one HNSW graph and the per-node and per-label locks over it. The
// layout is hnswlib's (Apache-2.0; see NOTICE), so that the graph file is this memory written out
// and a graph built here is byte-for-byte the one hnswlib-node builds from the same inserts:
//   elements: `capacity` blocks of element_bytes, each [layer-0 link list][vector][label], where a
//             link list is a 32-bit header (bits 0-15 the count, bit 16 the deleted mark) and then
//             `max_links0` node ids (32-bit), the vector `dim` floats (an int8 graph: its codes,
//             scalar-quantiser.h) and the label a size_t;
//   upper:    per node of level L > 0, one block of L link lists of `max_links` ids (layers 1..L).
// Knows nothing of searching or linking (hnsw-search.h, hnsw-insert.h) nor of the file (hnsw-file.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hnsw-space.h"

namespace quiver {

// A node's index in `elements` (hnswlib's tableint), and the header word of a link list.
using NodeId = std::uint32_t;
using LinkHeader = std::uint32_t;
// The label as stored in an element (hnswlib's labeltype).
using StoredLabel = std::size_t;

// The entry point of a graph with no node yet.
constexpr NodeId kNoNode = 0xFFFFFFFFu;
// Labels share this many locks (label mod the count): hnswlib's figure, so inserts of one label
// from several threads are serialised as there.
constexpr std::size_t kLabelLocks = 65536;

// Per-search "visited" marks over the nodes, pooled so that concurrent searches never share one:
// a node is visited when its mark equals the current tag; a new search moves to the next tag and
// clears the marks only when the 16-bit tag wraps.
class VisitedPool {
 public:
  explicit VisitedPool(std::size_t nodes) : nodes_(nodes) {}

  struct Marks {
    std::vector<std::uint16_t> mark;
    std::uint16_t tag = 0;
  };

  // A set of marks held for one search; returned to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(VisitedPool& pool, std::unique_ptr<Marks> marks) : pool_(pool), marks_(std::move(marks)) {}
    ~Lease() { pool_.Return(std::move(marks_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    std::uint16_t* mark() const { return marks_->mark.data(); }
    std::uint16_t tag() const { return marks_->tag; }

   private:
    VisitedPool& pool_;
    std::unique_ptr<Marks> marks_;
  };

  Lease Acquire();

 private:
  void Return(std::unique_ptr<Marks> marks);

  const std::size_t nodes_;
  std::mutex lock_;
  std::vector<std::unique_ptr<Marks>> free_;
};

class HnswStore {
 public:
  // An empty graph for up to `capacity` nodes: M links per node on the upper layers, 2M on layer 0,
  // levels drawn from a generator seeded with `seed`, efConstruction raised to at least M (as
  // hnswlib's constructor does). Throws when the memory cannot be had.
  HnswStore(std::size_t dim, HnswDistance distance, std::size_t capacity, std::size_t m, std::size_t ef_construction,
            std::size_t seed);
  // A store with no memory yet, for ReadGraphFile to fill (the layout fields from the file, then
  // Allocate).
  HnswStore(std::size_t dim, HnswDistance distance);
  // An int8 graph: vectors of `vector_bytes` bytes, scored by `distance` with `distance_params`
  // (owned by the caller, outliving the store) in place of the dim. `Init` then sizes it.
  HnswStore(std::size_t dim, HnswDistance distance, std::size_t vector_bytes, const void* distance_params);
  void Init(std::size_t capacity, std::size_t m, std::size_t ef_construction, std::size_t seed);
  ~HnswStore();
  HnswStore(const HnswStore&) = delete;
  HnswStore& operator=(const HnswStore&) = delete;

  // Sizes the element array, locks, levels and upper-list table for `capacity` nodes (contents
  // up to `count` kept). Throws, leaving the store unchanged, when the memory cannot be had or
  // `capacity` is below the node count.
  void Resize(std::size_t capacity);

  // The level of a new node: floor(-ln(U(0, 1)) × level_mult) from the store's generator.
  int DrawLevel();

  char* Element(NodeId node) const { return elements + node * element_bytes; }
  LinkHeader* Links0(NodeId node) const { return reinterpret_cast<LinkHeader*>(Element(node)); }
  LinkHeader* UpperLinks(NodeId node, int layer) const {
    return reinterpret_cast<LinkHeader*>(upper[node].get() + (layer - 1) * links_bytes);
  }
  LinkHeader* Links(NodeId node, int layer) const { return layer == 0 ? Links0(node) : UpperLinks(node, layer); }
  const char* Vector(NodeId node) const { return Element(node) + vector_offset; }
  StoredLabel Label(NodeId node) const {
    StoredLabel label;
    std::memcpy(&label, Element(node) + label_offset, sizeof(label));
    return label;
  }

  static std::size_t LinkCount(const LinkHeader* links) {
    std::uint16_t count;
    std::memcpy(&count, links, sizeof(count));
    return count;
  }
  static void SetLinkCount(LinkHeader* links, std::size_t count) {
    const auto value = static_cast<std::uint16_t>(count);
    std::memcpy(links, &value, sizeof(value));
  }
  static NodeId* LinkIds(LinkHeader* links) { return reinterpret_cast<NodeId*>(links + 1); }
  static const NodeId* LinkIds(const LinkHeader* links) { return reinterpret_cast<const NodeId*>(links + 1); }

  // The deleted mark: bit 0 of the third byte of the node's layer-0 header.
  bool IsDeleted(NodeId node) const { return (reinterpret_cast<const unsigned char*>(Links0(node))[2] & 1u) != 0; }
  void SetDeleted(NodeId node, bool deleted) {
    unsigned char& byte = reinterpret_cast<unsigned char*>(Links0(node))[2];
    byte = deleted ? static_cast<unsigned char>(byte | 1u) : static_cast<unsigned char>(byte & ~1u);
  }

  // Two stored vectors (or a stored vector and a new node's, stored alike).
  float Distance(const void* a, const void* b) const { return distance(a, b, distance_params); }
  // A query in its prepared form (HnswGraph::Prepared: for float graphs the stored form too) and a
  // stored vector.
  float QueryDistance(const void* query, const void* stored) const {
    return query_distance(query, stored, distance_params);
  }
  std::mutex& LabelLock(StoredLabel label) const { return label_locks[label & (kLabelLocks - 1)]; }

  // Layout (fixed for a graph; from the file for a loaded one).
  std::size_t dim;
  const HnswDistance distance;
  std::size_t vector_bytes;
  const void* distance_params;  // &dim for float vectors
  // The query → stored kernel: `distance` unless set (an int8 graph's asymmetric kernel,
  // scalar-quantiser.h, set by its HnswGraph once the store exists).
  HnswDistance query_distance;
  std::size_t m = 0;
  std::size_t max_links = 0;   // ids per upper-layer list (M)
  std::size_t max_links0 = 0;  // ids per layer-0 list (2M)
  std::size_t ef_construction = 0;
  double level_mult = 0.0;  // 1 / ln(M)
  std::size_t links0_bytes = 0;
  std::size_t links_bytes = 0;
  std::size_t element_bytes = 0;
  std::size_t vector_offset = 0;
  std::size_t label_offset = 0;

  // State. `count` and `deleted` change under the graph's exclusive lock or, for inserts running
  // side by side, `label_lookup_lock` (count) only.
  std::size_t capacity = 0;
  std::atomic<std::size_t> count{0};
  std::atomic<std::size_t> deleted{0};
  int top_layer = -1;
  NodeId entry = kNoNode;
  char* elements = nullptr;                   // malloc'd, capacity × element_bytes
  std::vector<std::unique_ptr<char[]>> upper;  // per node: its upper-layer lists, or null
  std::vector<int> levels;                     // per node: its top layer
  std::unordered_map<StoredLabel, NodeId> label_lookup;
  std::mutex label_lookup_lock;
  mutable std::vector<std::mutex> node_locks;  // per node: guards its link lists while inserts run
  mutable std::vector<std::mutex> label_locks;
  std::mutex top_lock;  // held by an insert that will raise the top layer until it is linked
  // The standard library's default engine, as hnswlib's (libstdc++: minstd_rand0; MSVC: mt19937),
  // so that a seed draws hnswlib-node's levels when both are built with the same library.
  std::default_random_engine level_generator;
  std::unique_ptr<VisitedPool> visited;

  // For the reader: the link-list sizes, and with them every offset of an element.
  void SetLayout(std::size_t upper_links, std::size_t layer0_links);
  // For the reader: the element array and per-node tables for `capacity` nodes, none used yet.
  // Throws when the memory cannot be had.
  void Allocate(std::size_t new_capacity);
};

// Asks the kernel to back the 2 MiB-aligned part of [data, data + bytes) with transparent huge
// pages where it offers them on request (a no-op elsewhere).
void AdviseHugePages(void* data, std::size_t bytes);

}  // namespace quiver
