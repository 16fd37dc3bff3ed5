// The searches of the HNSW graph over an HnswStore: the greedy descent through the upper layers,
// the layer search over one sorted candidate list (SortedSearch), hnswlib's two-heap layer
// searches (for queries with a filter or deleted nodes, for inserts on graphs with deleted nodes,
// and for the 'hnswlib' loop), and a whole k-NN query. They take no lock of the graph's; inserts
// running side by side pass `locked` so that each node's links are read under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <utility>
#include <vector>

#include "hnsw-graph.h"
#include "hnsw-store.h"

namespace quiver {

// A node and its distance; the queues order by distance alone (equal distances in the order the
// heap leaves them, as hnswlib's), a max-heap: top() is the farthest.
using Scored = std::pair<float, NodeId>;
struct ByDistance {
  bool operator()(const Scored& a, const Scored& b) const noexcept { return a.first < b.first; }
};
using ScoredQueue = std::priority_queue<Scored, std::vector<Scored>, ByDistance>;

// Graphs up to this many elements may use SortedSearch (its list flags ids in their top bit).
constexpr std::size_t kSortedSearchMaxElements = 0x80000000u;

// Asks the cache for every line of [data, data + bytes) (a hint; no effect where unsupported).
inline void PrefetchBytes(const char* data, std::size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
  for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(data + offset);
#else
  (void)data;
  (void)bytes;
#endif
}

// True when the allow-list admits `label` (AllowList in hnsw-graph.h).
inline bool Allowed(const AllowList& allow, StoredLabel label) {
  const std::size_t element = label / allow.bits;
  if (element >= allow.element_count) return false;
  const unsigned bit = static_cast<unsigned>(label % allow.bits);
  if (allow.bits == 8) return ((static_cast<const std::uint8_t*>(allow.elements)[element] >> bit) & 1u) != 0;
  return ((static_cast<const std::uint32_t*>(allow.elements)[element] >> bit) & 1u) != 0;
}

// The candidate list of SortedSearch: the `capacity` best nodes found so far by ascending
// distance (equal distances in the order they came), each flagged once expanded.
class SortedCandidates {
 public:
  // At least one slot, whatever a loaded graph's efConstruction says (Offer reads the last one).
  void Reset(std::size_t capacity);
  // Lists (distance, id) when there is room or it is nearer than the farthest listed node, which
  // then drops out.
  void Offer(float distance, NodeId id) {
    std::size_t slot;
    if (size_ < capacity_) {
      slot = size_++;
    } else if (distance < entries_[size_ - 1].distance) {
      slot = size_ - 1;
    } else {
      return;
    }
    // Shifted up one by one from the end: new nodes mostly land near it.
    for (; slot > 0 && entries_[slot - 1].distance > distance; slot--) entries_[slot] = entries_[slot - 1];
    entries_[slot] = {distance, id};
    if (slot < next_) next_ = slot;
  }
  // The nearest unexpanded node (false when every listed node is expanded); `take` flags it.
  bool Nearest(bool take, NodeId& id) {
    while (next_ < size_ && (entries_[next_].id & kExpanded) != 0) next_++;
    if (next_ == size_) return false;
    id = entries_[next_].id;
    if (take) entries_[next_].id |= kExpanded;
    return true;
  }
  std::size_t size() const { return size_; }
  Scored operator[](std::size_t slot) const { return {entries_[slot].distance, entries_[slot].id & ~kExpanded}; }

 private:
  // The flag shares the id's word: ids stay below the capacity, which SortedSearch's callers hold
  // under kSortedSearchMaxElements.
  static constexpr NodeId kExpanded = 0x80000000u;
  struct Entry {
    float distance;
    NodeId id;
  };
  std::vector<Entry> entries_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::size_t next_ = 0;
};

// Every `query` below is in its prepared form (HnswGraph::Prepared), scored by
// HnswStore::QueryDistance: for float graphs the vector itself, for int8 ones an Int8Query.

// Greedy descent through layers `from` down to `above` + 1: on each layer, move to the neighbour
// nearest `query` while one is nearer than the current node. Throws when a link names a node past
// the graph's end.
NodeId Descend(const HnswStore& store, NodeId entry, const void* query, int from, int above, bool locked);

// A search of one layer over one sorted list instead of two heaps (a max-heap of the ef best, a
// min-heap of nodes to expand): the nearest unexpanded listed node is expanded next, its unvisited
// neighbours are offered to the list, and the search ends when every listed node is expanded.
// Without equal distances it expands the same nodes in the same order as the two-heap searches
// (SearchLayer0 for queries, SearchForLinks for inserts), and so finds the same ef best: a node the
// heaps keep as a candidate after the result heap dropped it is farther than every node still
// listed, and reaching it is their stop condition. Equal distances may be ordered otherwise. Only
// for graphs with no deleted node (the heaps keep deleted nodes out of their results) and no
// filter. The list is this thread's, valid until its next call.
const SortedCandidates& SortedSearch(const HnswStore& store, NodeId entry, const void* query, int layer, std::size_t ef,
                                     bool locked);

// The two-heap search of `layer` from `entry` for an insert (hnswlib's searchBaseLayer): the up to
// efConstruction nearest live nodes, with each node's links read under its lock.
ScoredQueue SearchForLinks(const HnswStore& store, NodeId entry, const void* query, int layer);

// A k-NN query: descent through the upper layers, then layer 0 by SortedSearch when `loop` is
// kSorted and nothing is deleted or filtered, else by the two-heap search of hnswlib's
// searchBaseLayerST (live, allowed nodes only), with effort max(ef, k); the best k into labels /
// distances ordered by (distance, label), padded with kNoLabel / +infinity.
void SearchOne(const HnswStore& store, HnswSearchLoop loop, const void* query, std::size_t k, std::size_t ef,
               const AllowList* allow, std::uint32_t* labels, float* distances);

}  // namespace quiver
