// The HNSW layer searches and the k-NN query (see hnsw-search.h). All of them read vectors in
// place, collect a node's unvisited neighbours before scoring them, and ask for each one's whole
// vector a few distance computations ahead.
#include "hnsw-search.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

#include "compiler.h"

namespace quiver {
namespace {

// Stored vectors of a node's fresh neighbours requested from memory this many ahead of their
// distance computation, every cache line of each.
constexpr std::size_t kPrefetchNeighbours = 4;

// This thread's buffer of fresh neighbours, out of line (compiler.h), so that SortedSearch's loop
// takes its address once per search rather than at each use.
QUIVER_NOINLINE std::vector<NodeId>& ThreadFresh() {
  thread_local std::vector<NodeId> fresh;
  return fresh;
}

// This thread's candidate list (out of line, as ThreadFresh).
QUIVER_NOINLINE SortedCandidates& ThreadCandidates() {
  thread_local SortedCandidates list;
  return list;
}

// Puts the neighbours of `node` on `layer` that are not visited yet into fresh[0, count), marking
// them visited; returns count. `fresh` holds at least max_links0 + 1 ids. With `locked`, the list
// is read under the node's lock.
std::size_t FreshNeighbours(const HnswStore& store, NodeId node, int layer, std::uint16_t* visited,
                            std::uint16_t tag, std::vector<NodeId>& fresh, bool locked) {
  std::unique_lock<std::mutex> guard;
  if (locked) guard = std::unique_lock<std::mutex>(store.node_locks[node]);
  const LinkHeader* links = store.Links(node, layer);
  const std::size_t size = HnswStore::LinkCount(links);
  const NodeId* ids = HnswStore::LinkIds(links);
  std::size_t count = 0;
  for (std::size_t j = 0; j < size; j++) {
    const NodeId id = ids[j];
    if (visited[id] == tag) continue;
    visited[id] = tag;
    fresh[count++] = id;
  }
  return count;
}

// Hands take(distance, id) for fresh[0, count) in order, each node's whole vector requested from
// memory kPrefetchNeighbours distance computations ahead.
template <typename Take>
void ScoreFresh(const HnswStore& store, const void* query, const std::vector<NodeId>& fresh, std::size_t count,
                Take&& take) {
  const std::size_t bytes = store.vector_bytes;
  for (std::size_t i = 0; i < std::min(count, kPrefetchNeighbours); i++) PrefetchBytes(store.Vector(fresh[i]), bytes);
  for (std::size_t i = 0; i < count; i++) {
    if (i + kPrefetchNeighbours < count) PrefetchBytes(store.Vector(fresh[i + kPrefetchNeighbours]), bytes);
    take(store.QueryDistance(query, store.Vector(fresh[i])), fresh[i]);
  }
}

// The two-heap search of one layer: `top`, a max-heap of the ef best admitted nodes, and
// `candidates`, the nodes to expand nearest first (stored negated in a max-heap). The nearest
// candidate is expanded until it is farther than the worst of a full `top`. A neighbour enters the
// candidates when `top` has room or it is nearer than its worst; it enters `top` only when
// admitted (live, and allowed by `allow`). kBareBone (no deleted node, no filter): every node is
// admitted, and the search stops at the first candidate farther than the worst kept even when
// `top` is not full, as hnswlib's searchBaseLayerST does then. The operations on both heaps are
// hnswlib's, one for one, so equal distances come out in its order too.
template <bool kBareBone>
ScoredQueue TwoHeapSearch(const HnswStore& store, NodeId entry, const void* query, int layer, std::size_t ef,
                          const AllowList* allow, bool locked) {
  const VisitedPool::Lease lease = store.visited->Acquire();
  std::uint16_t* visited = lease.mark();
  const std::uint16_t tag = lease.tag();
  const auto admitted = [&](NodeId id) {
    return kBareBone || (!store.IsDeleted(id) && (allow == nullptr || Allowed(*allow, store.Label(id))));
  };

  ScoredQueue top;
  ScoredQueue candidates;
  float lower_bound;
  if (admitted(entry)) {
    const float d = store.QueryDistance(query, store.Vector(entry));
    lower_bound = d;
    top.emplace(d, entry);
    candidates.emplace(-d, entry);
  } else {
    lower_bound = std::numeric_limits<float>::max();
    candidates.emplace(-lower_bound, entry);
  }
  visited[entry] = tag;

  std::vector<NodeId>& fresh = ThreadFresh();
  fresh.resize(std::max(store.max_links0, store.max_links) + 1);
  while (!candidates.empty()) {
    const Scored current = candidates.top();
    const float candidate_distance = -current.first;
    if (kBareBone ? candidate_distance > lower_bound : (candidate_distance > lower_bound && top.size() == ef)) break;
    candidates.pop();

    const std::size_t count = FreshNeighbours(store, current.second, layer, visited, tag, fresh, locked);
    ScoreFresh(store, query, fresh, count, [&](float d, NodeId id) {
      if (top.size() < ef || lower_bound > d) {
        candidates.emplace(-d, id);
        if (admitted(id)) top.emplace(d, id);
        if (top.size() > ef) top.pop();
        if (!top.empty()) lower_bound = top.top().first;
      }
    });
  }
  return top;
}

}  // namespace

void SortedCandidates::Reset(std::size_t capacity) {
  capacity_ = std::max<std::size_t>(capacity, 1);
  size_ = 0;
  next_ = 0;
  entries_.resize(capacity_);
}

NodeId Descend(const HnswStore& store, NodeId entry, const void* query, int from, int above, bool locked) {
  if (from <= above) return entry;
  NodeId current = entry;
  float nearest = store.QueryDistance(query, store.Vector(current));
  for (int layer = from; layer > above; layer--) {
    for (bool moved = true; moved;) {
      moved = false;
      std::unique_lock<std::mutex> guard;
      if (locked) guard = std::unique_lock<std::mutex>(store.node_locks[current]);
      const LinkHeader* links = store.UpperLinks(current, layer);
      const std::size_t size = HnswStore::LinkCount(links);
      const NodeId* neighbours = HnswStore::LinkIds(links);
      const NodeId from_node = current;
      for (std::size_t i = 0; i < size; i++) {
        const NodeId candidate = neighbours[i];
        if (candidate >= store.capacity) {
          throw std::runtime_error("the graph links node " + std::to_string(from_node) + " to a node past its end");
        }
        const float d = store.QueryDistance(query, store.Vector(candidate));
        if (d < nearest) {
          nearest = d;
          current = candidate;
          moved = true;
        }
      }
    }
  }
  return current;
}

const SortedCandidates& SortedSearch(const HnswStore& store, NodeId entry, const void* query, int layer, std::size_t ef,
                                     bool locked) {
  const VisitedPool::Lease lease = store.visited->Acquire();
  std::uint16_t* visited = lease.mark();
  const std::uint16_t tag = lease.tag();

  SortedCandidates& list = ThreadCandidates();
  list.Reset(ef);
  list.Offer(store.QueryDistance(query, store.Vector(entry)), entry);
  visited[entry] = tag;

  std::vector<NodeId>& fresh = ThreadFresh();
  fresh.resize(std::max(store.max_links0, store.max_links) + 1);
  const std::size_t link_bytes = layer == 0 ? store.links0_bytes : store.links_bytes;
  NodeId current;
  while (list.Nearest(true, current)) {
    // The links of the node likely expanded next, requested while this one's neighbours are scored.
    NodeId upcoming;
    if (list.Nearest(false, upcoming)) {
      PrefetchBytes(reinterpret_cast<const char*>(store.Links(upcoming, layer)), link_bytes);
    }
    const std::size_t count = FreshNeighbours(store, current, layer, visited, tag, fresh, locked);
    ScoreFresh(store, query, fresh, count, [&](float d, NodeId id) { list.Offer(d, id); });
  }
  return list;
}

ScoredQueue SearchForLinks(const HnswStore& store, NodeId entry, const void* query, int layer) {
  return TwoHeapSearch<false>(store, entry, query, layer, store.ef_construction, nullptr, true);
}

void SearchOne(const HnswStore& store, HnswSearchLoop loop, const void* query, std::size_t k, std::size_t ef,
               const AllowList* allow, std::uint32_t* labels, float* distances) {
  std::size_t found = 0;
  if (store.count != 0) {
    const NodeId current = Descend(store, store.entry, query, store.top_layer, 0, false);
    const std::size_t effort = std::max(ef, k);
    const bool bare_bone = store.deleted == 0 && allow == nullptr;
    std::priority_queue<std::pair<float, StoredLabel>> ordered;
    if (loop == HnswSearchLoop::kSorted && bare_bone && store.capacity <= kSortedSearchMaxElements) {
      const SortedCandidates& list = SortedSearch(store, current, query, 0, effort, false);
      for (std::size_t slot = 0; slot < std::min(k, list.size()); slot++) {
        ordered.emplace(list[slot].first, store.Label(list[slot].second));
      }
    } else {
      ScoredQueue top = bare_bone ? TwoHeapSearch<true>(store, current, query, 0, effort, nullptr, false)
                                  : TwoHeapSearch<false>(store, current, query, 0, effort, allow, false);
      while (top.size() > k) top.pop();
      while (!top.empty()) {
        ordered.emplace(top.top().first, store.Label(top.top().second));
        top.pop();
      }
    }
    found = ordered.size();
    for (std::size_t slot = found; slot-- > 0;) {
      labels[slot] = static_cast<std::uint32_t>(ordered.top().second);
      distances[slot] = ordered.top().first;
      ordered.pop();
    }
  }
  for (std::size_t slot = found; slot < k; slot++) {
    labels[slot] = kNoLabel;
    distances[slot] = std::numeric_limits<float>::infinity();
  }
}

}  // namespace quiver
