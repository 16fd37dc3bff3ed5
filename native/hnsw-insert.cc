// Inserting, updating and deleting HNSW nodes (see hnsw-insert.h).
#include "hnsw-insert.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hnsw-search.h"

namespace quiver {
namespace {

[[noreturn]] void Inconsistent(const std::string& what) {
  throw std::runtime_error("the HNSW graph is inconsistent: " + what);
}

// The neighbour-selection heuristic: from `candidates` (a max-heap), nearest first, keep a node
// only when it is nearer to the new node than to every node kept before it, until `most` are kept;
// `candidates` is left holding the kept ones. Fewer than `most` candidates are all kept as they are.
void SelectNeighbours(const HnswStore& store, ScoredQueue& candidates, std::size_t most) {
  if (candidates.size() < most) return;
  // Nearest first: distances negated, equal ones by the higher id first (std::pair's order).
  std::priority_queue<std::pair<float, NodeId>> nearest_first;
  std::vector<std::pair<float, NodeId>> kept;
  while (!candidates.empty()) {
    nearest_first.emplace(-candidates.top().first, candidates.top().second);
    candidates.pop();
  }
  while (!nearest_first.empty() && kept.size() < most) {
    const std::pair<float, NodeId> current = nearest_first.top();
    const float to_new = -current.first;
    nearest_first.pop();
    bool diverse = true;
    for (const std::pair<float, NodeId>& chosen : kept) {
      if (store.Distance(store.Vector(chosen.second), store.Vector(current.second)) < to_new) {
        diverse = false;
        break;
      }
    }
    if (diverse) kept.push_back(current);
  }
  for (const std::pair<float, NodeId>& chosen : kept) candidates.emplace(-chosen.first, chosen.second);
}

// Links `node` on `layer` to the nodes the heuristic keeps of `candidates` (its list replaced), and
// each of those back to it: appended while the other's list has room, else the other's list is
// re-chosen by the heuristic among its links and `node`. For an update (`update`), the node's own
// list is written under its lock and a neighbour already linked to it is left alone. Returns the
// nearest kept node, the next layer's starting point.
NodeId ConnectNode(HnswStore& store, NodeId node, ScoredQueue& candidates, int layer, bool update) {
  const std::size_t most = layer != 0 ? store.max_links : store.max_links0;
  SelectNeighbours(store, candidates, store.m);
  if (candidates.empty() || candidates.size() > store.m) Inconsistent("the heuristic kept no neighbour or too many");
  std::vector<NodeId> selected;
  selected.reserve(candidates.size());
  while (!candidates.empty()) {
    selected.push_back(candidates.top().second);  // farthest first
    candidates.pop();
  }
  {
    std::unique_lock<std::mutex> guard(store.node_locks[node], std::defer_lock);
    if (update) guard.lock();
    LinkHeader* own = store.Links(node, layer);
    if (*own != 0 && !update) Inconsistent("a new node already has links");
    HnswStore::SetLinkCount(own, selected.size());
    NodeId* ids = HnswStore::LinkIds(own);
    for (std::size_t i = 0; i < selected.size(); i++) {
      if (layer > store.levels[selected[i]]) Inconsistent("a link to a node on a layer it does not reach");
      ids[i] = selected[i];
    }
  }

  for (const NodeId other : selected) {
    std::lock_guard<std::mutex> guard(store.node_locks[other]);
    LinkHeader* theirs = store.Links(other, layer);
    const std::size_t size = HnswStore::LinkCount(theirs);
    if (size > most) Inconsistent("node " + std::to_string(other) + " has more links than its layer allows");
    if (other == node) Inconsistent("a node linked to itself");
    if (layer > store.levels[other]) Inconsistent("a link to a node on a layer it does not reach");
    NodeId* ids = HnswStore::LinkIds(theirs);
    if (update && std::find(ids, ids + size, node) != ids + size) continue;
    if (size < most) {
      ids[size] = node;
      HnswStore::SetLinkCount(theirs, size + 1);
      continue;
    }
    ScoredQueue pool;
    pool.emplace(store.Distance(store.Vector(node), store.Vector(other)), node);
    for (std::size_t j = 0; j < size; j++) pool.emplace(store.Distance(store.Vector(ids[j]), store.Vector(other)), ids[j]);
    SelectNeighbours(store, pool, most);
    std::size_t kept = 0;
    while (!pool.empty()) {
      ids[kept++] = pool.top().second;
      pool.pop();
    }
    HnswStore::SetLinkCount(theirs, kept);
  }
  return selected.back();
}

// A copy of `node`'s links on `layer`, read under its lock.
std::vector<NodeId> LinksOf(const HnswStore& store, NodeId node, int layer) {
  std::lock_guard<std::mutex> guard(store.node_locks[node]);
  const LinkHeader* links = store.Links(node, layer);
  const NodeId* ids = HnswStore::LinkIds(links);
  return std::vector<NodeId>(ids, ids + HnswStore::LinkCount(links));
}

// After an update of `node` (level `level`; the graph's entry point and top layer as they were
// when it began): finds its neighbours afresh from the entry point, as an insert does, and links
// them both ways (its own lists replaced). `query` is its vector's query form.
void RelinkUpdated(HnswStore& store, const void* query, NodeId entry, NodeId node, int level, int top) {
  NodeId current = Descend(store, entry, query, top, level, true);
  if (level > top) Inconsistent("an updated node is above the top layer");
  for (int layer = level; layer >= 0; layer--) {
    ScoredQueue found = SearchForLinks(store, current, query, layer);
    ScoredQueue others;
    for (; !found.empty(); found.pop()) {
      if (found.top().second != node) others.push(found.top());
    }
    // The node itself may be all the search found (say, when it is the entry point).
    if (others.empty()) continue;
    if (store.IsDeleted(entry)) {
      others.emplace(store.QueryDistance(query, store.Vector(entry)), entry);
      if (others.size() > store.ef_construction) others.pop();
    }
    current = ConnectNode(store, node, others, layer, true);
  }
}

// Replaces the vector of `node` and re-links its neighbourhood, layer by layer: each of its
// neighbours gets its list re-chosen by the heuristic among the efConstruction nearest of the node,
// its neighbours and theirs; then the node's own links are found afresh (RelinkUpdated, with the
// vector's query form `query`).
void UpdateNode(HnswStore& store, const void* vector, const void* query, NodeId node) {
  std::memcpy(store.Element(node) + store.vector_offset, vector, store.vector_bytes);
  const int top = store.top_layer;
  const NodeId entry = store.entry;
  if (entry == node && store.count == 1) return;
  const int level = store.levels[node];
  for (int layer = 0; layer <= level; layer++) {
    const std::vector<NodeId> one_hop = LinksOf(store, node, layer);
    if (one_hop.empty()) continue;
    // Iterated in the sets' own order, as hnswlib iterates its own (the same container).
    std::unordered_set<NodeId> reach;
    std::unordered_set<NodeId> relink;
    reach.insert(node);
    for (const NodeId neighbour : one_hop) {
      reach.insert(neighbour);
      relink.insert(neighbour);
      for (const NodeId second : LinksOf(store, neighbour, layer)) reach.insert(second);
    }
    for (const NodeId neighbour : relink) {
      ScoredQueue candidates;
      const std::size_t others = reach.count(neighbour) == 0 ? reach.size() : reach.size() - 1;
      const std::size_t keep = std::min(store.ef_construction, others);
      for (const NodeId candidate : reach) {
        if (candidate == neighbour) continue;
        const float d = store.Distance(store.Vector(neighbour), store.Vector(candidate));
        if (candidates.size() < keep) {
          candidates.emplace(d, candidate);
        } else if (d < candidates.top().first) {
          candidates.pop();
          candidates.emplace(d, candidate);
        }
      }
      SelectNeighbours(store, candidates, layer == 0 ? store.max_links0 : store.max_links);
      std::lock_guard<std::mutex> guard(store.node_locks[neighbour]);
      LinkHeader* links = store.Links(neighbour, layer);
      HnswStore::SetLinkCount(links, candidates.size());
      NodeId* ids = HnswStore::LinkIds(links);
      for (std::size_t i = 0; !candidates.empty(); i++, candidates.pop()) ids[i] = candidates.top().second;
    }
  }
  RelinkUpdated(store, query, entry, node, level, top);
}

}  // namespace

void InsertNode(HnswStore& store, const void* vector, const void* query, StoredLabel label, bool sorted) {
  std::lock_guard<std::mutex> label_guard(store.LabelLock(label));
  NodeId node;
  {
    std::unique_lock<std::mutex> table(store.label_lookup_lock);
    const auto existing = store.label_lookup.find(label);
    if (existing != store.label_lookup.end()) {
      const NodeId id = existing->second;
      table.unlock();
      if (store.IsDeleted(id)) {
        store.SetDeleted(id, false);
        store.deleted -= 1;
      }
      UpdateNode(store, vector, query, id);
      return;
    }
    if (store.count >= store.capacity) {
      throw std::runtime_error("the graph is full (" + std::to_string(store.capacity) + " elements); resize first");
    }
    node = static_cast<NodeId>(store.count++);
    store.label_lookup[label] = node;
  }

  std::lock_guard<std::mutex> node_guard(store.node_locks[node]);
  const int level = store.DrawLevel();
  store.levels[node] = level;
  // A node reaching above the top layer becomes the entry point: other inserts wait on the top
  // lock until it is linked.
  std::unique_lock<std::mutex> top_guard(store.top_lock);
  const int top = store.top_layer;
  if (level <= top) top_guard.unlock();
  const NodeId entry = store.entry;

  char* element = store.Element(node);
  std::memset(element, 0, store.element_bytes);
  std::memcpy(element + store.label_offset, &label, sizeof(StoredLabel));
  std::memcpy(element + store.vector_offset, vector, store.vector_bytes);
  if (level > 0) {
    // One spare byte, as hnswlib allocates (it is never written to the file).
    const std::size_t bytes = store.links_bytes * static_cast<std::size_t>(level) + 1;
    store.upper[node].reset(new (std::nothrow) char[bytes]());
    if (!store.upper[node]) throw std::runtime_error("out of memory for a node's upper-layer links");
  }

  if (entry != kNoNode) {
    NodeId nearest = Descend(store, entry, query, top, level, true);
    const bool entry_deleted = store.IsDeleted(entry);
    for (int layer = std::min(level, top); layer >= 0; layer--) {
      ScoredQueue candidates;
      if (sorted) {
        const SortedCandidates& list = SortedSearch(store, nearest, query, layer, store.ef_construction, true);
        std::vector<Scored> found(list.size());
        for (std::size_t slot = 0; slot < list.size(); slot++) found[slot] = list[slot];
        candidates = ScoredQueue(ByDistance(), std::move(found));
      } else {
        candidates = SearchForLinks(store, nearest, query, layer);
        // A deleted entry point is kept out of the search's results but is still a neighbour.
        if (entry_deleted) {
          candidates.emplace(store.QueryDistance(query, store.Vector(entry)), entry);
          if (candidates.size() > store.ef_construction) candidates.pop();
        }
      }
      // Every node the search reached is deleted: the node stays unlinked on this layer.
      if (candidates.empty()) continue;
      nearest = ConnectNode(store, node, candidates, layer, false);
    }
  }
  if (level > top) {
    store.entry = node;
    store.top_layer = level;
  }
}

void MarkDeleted(HnswStore& store, StoredLabel label) {
  std::lock_guard<std::mutex> label_guard(store.LabelLock(label));
  NodeId node;
  {
    std::lock_guard<std::mutex> table(store.label_lookup_lock);
    const auto found = store.label_lookup.find(label);
    if (found == store.label_lookup.end()) {
      throw std::runtime_error("label " + std::to_string(label) + " is not in the graph");
    }
    node = found->second;
  }
  if (store.IsDeleted(node)) throw std::runtime_error("label " + std::to_string(label) + " is already deleted");
  store.SetDeleted(node, true);
  store.deleted += 1;
}

}  // namespace quiver
