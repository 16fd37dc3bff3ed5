// HnswGraph over hnswlib's HierarchicalNSW. The only translation unit that includes hnswlib (from
// node_modules/hnswlib-node/src/hnswlib, see binding.gyp). Inserts and searches read vectors in
// place; only cosine copies, to normalise into a thread-local buffer exactly as hnswlib-node does.
#include "hnsw-graph.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <utility>
#include <vector>

// hnswlib's headers are third-party: keep their warnings out of this build's output.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "hnswlib.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "compiler.h"
#include "hnsw-space.h"
#include "thread-pool.h"
#include "top-k.h"

namespace quiver {
namespace {

using Graph = hnswlib::HierarchicalNSW<float>;

// Rows per exclusive-lock hold in AddBatch: large enough that the lock costs nothing next to the
// inserts, small enough that searches waiting on the lock are served between chunks.
constexpr std::size_t kAddChunk = 4096;

// hnswlib-node's normalizePoint, step for step (float accumulation in order, sqrt of |sum|,
// division), so that a cosine graph built here is bit-identical to one built there.
void NormalizeInto(const float* vector, std::size_t dim, std::vector<float>& out) {
  out.assign(vector, vector + dim);
  const float norm = std::sqrt(std::fabs(std::inner_product(out.begin(), out.end(), out.begin(), 0.0f)));
  if (norm > 0.0f) {
    for (std::size_t i = 0; i < dim; i++) out[i] /= norm;
  }
}

// The vector hnswlib should see: the row itself, or for cosine its normalised copy in this
// thread's buffer (valid until the next call on the same thread).
const float* Prepared(HnswSpace space, const float* row, std::size_t dim) {
  if (space != HnswSpace::kCosine) return row;
  thread_local std::vector<float> buffer;
  NormalizeInto(row, dim, buffer);
  return buffer.data();
}

// hnswlib's SpaceInterface over QuiverDB's run-time-chosen kernels (hnsw-space.h). The graph's
// memory layout and file format depend only on the data size, so graphs move freely between this
// space and hnswlib's own L2Space / InnerProductSpace.
class DispatchedSpace : public hnswlib::SpaceInterface<float> {
 public:
  DispatchedSpace(HnswSpace space, std::size_t dim)
      : dim_(dim), distance_(space == HnswSpace::kL2 ? ChooseL2Distance() : ChooseInnerProductDistance()) {}

  std::size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  std::size_t dim_;
  const HnswDistance distance_;
};

class AllowListFilter : public hnswlib::BaseFilterFunctor {
 public:
  explicit AllowListFilter(const AllowList& allow) : allow_(allow) {}

  bool operator()(hnswlib::labeltype label) override {
    const std::size_t element = label / allow_.bits;
    if (element >= allow_.element_count) return false;
    const unsigned bit = static_cast<unsigned>(label % allow_.bits);
    if (allow_.bits == 8) return (static_cast<const std::uint8_t*>(allow_.elements)[element] >> bit) & 1u;
    return (static_cast<const std::uint32_t*>(allow_.elements)[element] >> bit) & 1u;
  }

 private:
  const AllowList allow_;
};

// Stored vectors of a node's fresh neighbours requested from memory this many ahead of their
// distance computation, every cache line of each (hnswlib asks only for the first line of the next
// one).
constexpr std::size_t kPrefetchNeighbours = 4;

// Asks the cache for every line of one stored vector (a hint; no effect where unsupported).
inline void PrefetchVector(const char* data, std::size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
  for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(data + offset);
#else
  (void)data;
  (void)bytes;
#endif
}

using Scored = std::pair<float, hnswlib::tableint>;
using ScoredQueue = std::priority_queue<Scored, std::vector<Scored>, Graph::CompareByFirst>;

// This thread's buffer of fresh neighbours, out of line (compiler.h; SortedSearch's loop made 24
// __tls_get_addr calls before).
QUIVER_NOINLINE std::vector<hnswlib::tableint>& ThreadFresh() {
  thread_local std::vector<hnswlib::tableint> fresh;
  return fresh;
}

// Puts the neighbours of `node` on `layer` that are not visited yet into fresh[0, count), marking
// them visited; returns count. `fresh` holds at least maxM0 + 1 ids.
std::size_t FreshNeighbours(const Graph& graph, hnswlib::tableint node, int layer, hnswlib::vl_type* visited,
                            hnswlib::vl_type tag, std::vector<hnswlib::tableint>& fresh) {
  hnswlib::linklistsizeint* links = graph.get_linklist_at_level(node, layer);
  const std::size_t size = graph.getListCount(links);
  const auto* list = reinterpret_cast<const hnswlib::tableint*>(links);
  std::size_t count = 0;
  for (std::size_t j = 1; j <= size; j++) {
    const hnswlib::tableint id = list[j];
    if (visited[id] == tag) continue;
    visited[id] = tag;
    fresh[count++] = id;
  }
  return count;
}

// Hands take(distance, id) for fresh[0, count) in order, each node's whole vector requested from
// memory kPrefetchNeighbours distance computations ahead.
template <typename Take>
void ScoreFresh(const Graph& graph, const float* query, const std::vector<hnswlib::tableint>& fresh,
                std::size_t count, Take&& take) {
  const std::size_t bytes = graph.data_size_;
  const auto distance = graph.fstdistfunc_;
  const void* parameter = graph.dist_func_param_;
  for (std::size_t i = 0; i < std::min(count, kPrefetchNeighbours); i++) {
    PrefetchVector(graph.getDataByInternalId(fresh[i]), bytes);
  }
  for (std::size_t i = 0; i < count; i++) {
    if (i + kPrefetchNeighbours < count) PrefetchVector(graph.getDataByInternalId(fresh[i + kPrefetchNeighbours]), bytes);
    take(distance(query, graph.getDataByInternalId(fresh[i]), parameter), fresh[i]);
  }
}

// hnswlib's searchBaseLayerST (without its stop condition), step for step: the same candidates in
// the same order, so the same results for the same graph, query and ef. What differs is memory
// traffic only: a node's unvisited neighbours are collected first, and each one's whole vector is
// prefetched kPrefetchNeighbours distance computations ahead. kBareBone: nothing is deleted and
// there is no filter.
template <bool kBareBone>
ScoredQueue SearchLayer0(const Graph& graph, hnswlib::tableint entry, const float* query, std::size_t ef,
                         hnswlib::BaseFilterFunctor* filter) {
  hnswlib::VisitedList* visited_list = graph.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  const auto distance = graph.fstdistfunc_;
  const void* parameter = graph.dist_func_param_;
  const auto admitted = [&](hnswlib::tableint id) {
    return kBareBone ||
           (!graph.isMarkedDeleted(id) && (filter == nullptr || (*filter)(graph.getExternalLabel(id))));
  };

  ScoredQueue top;
  ScoredQueue candidates;
  float lower_bound;
  if (admitted(entry)) {
    const float d = distance(query, graph.getDataByInternalId(entry), parameter);
    lower_bound = d;
    top.emplace(d, entry);
    candidates.emplace(-d, entry);
  } else {
    lower_bound = std::numeric_limits<float>::max();
    candidates.emplace(-lower_bound, entry);
  }
  visited[entry] = tag;

  std::vector<hnswlib::tableint>& fresh = ThreadFresh();
  fresh.resize(graph.maxM0_ + 1);
  while (!candidates.empty()) {
    const Scored current = candidates.top();
    const float candidate_distance = -current.first;
    if (kBareBone ? candidate_distance > lower_bound : (candidate_distance > lower_bound && top.size() == ef)) break;
    candidates.pop();

    const std::size_t count = FreshNeighbours(graph, current.second, 0, visited, tag, fresh);
    ScoreFresh(graph, query, fresh, count, [&](float d, hnswlib::tableint id) {
      if (top.size() < ef || lower_bound > d) {
        candidates.emplace(-d, id);
        if (admitted(id)) top.emplace(d, id);
        if (top.size() > ef) top.pop();
        if (!top.empty()) lower_bound = top.top().first;
      }
    });
  }
  graph.visited_list_pool_->releaseVisitedList(visited_list);
  return top;
}

// The candidate list of SortedSearch: the `capacity` best nodes found so far by ascending
// distance (equal distances in the order they came), each flagged once expanded.
class SortedCandidates {
 public:
  // At least one slot, whatever a loaded graph's efConstruction says (Offer reads the last one).
  void Reset(std::size_t capacity) {
    capacity_ = std::max<std::size_t>(capacity, 1);
    size_ = 0;
    next_ = 0;
    entries_.resize(capacity_);
  }
  // Lists (distance, id) when there is room or it is nearer than the farthest listed node, which
  // then drops out.
  void Offer(float distance, hnswlib::tableint id) {
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
  bool Nearest(bool take, hnswlib::tableint& id) {
    while (next_ < size_ && (entries_[next_].id & kExpanded) != 0) next_++;
    if (next_ == size_) return false;
    id = entries_[next_].id;
    if (take) entries_[next_].id |= kExpanded;
    return true;
  }
  std::size_t size() const { return size_; }
  Scored operator[](std::size_t slot) const { return {entries_[slot].distance, entries_[slot].id & ~kExpanded}; }

 private:
  // The flag shares the id's word: hnswlib's internal ids stay below max elements, which
  // SortedSearch's callers hold under this bit.
  static constexpr hnswlib::tableint kExpanded = 0x80000000u;
  struct Entry {
    float distance;
    hnswlib::tableint id;
  };
  std::vector<Entry> entries_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::size_t next_ = 0;
};

// This thread's candidate list (out of line, as ThreadFresh).
QUIVER_NOINLINE SortedCandidates& ThreadCandidates() {
  thread_local SortedCandidates list;
  return list;
}

// Graphs up to this many elements may use SortedSearch (its list flags ids in their top bit).
constexpr std::size_t kSortedSearchMaxElements = 0x80000000u;

// A search of one layer over one sorted list instead of hnswlib's two heaps (a max-heap of the ef
// best, a min-heap of nodes to expand): the nearest unexpanded listed node is expanded next, its
// unvisited neighbours are offered to the list, and the search ends when every listed node is
// expanded. Without equal distances it expands the same nodes in the same order as hnswlib's
// searchBaseLayerST (queries) and searchBaseLayer (inserts), and so finds the same ef best: a node
// hnswlib keeps in its candidate heap after its result heap dropped it is farther than every node
// still listed, and reaching it is hnswlib's stop condition. Equal distances may be ordered
// otherwise. Memory traffic as SearchLayer0, plus the links of the node likely expanded next,
// requested while the current one's neighbours are scored. Only for graphs with no deleted node
// (deleted nodes stay out of hnswlib's results) and no filter. With `locks` (the graph's
// link_list_locks_, for inserts, which run beside other inserts) a node's links are copied under its
// lock, as searchBaseLayer reads them. The list is this thread's, valid until its next call.
const SortedCandidates& SortedSearch(const Graph& graph, hnswlib::tableint entry, const float* query, int layer,
                                     std::size_t ef, std::vector<std::mutex>* locks) {
  hnswlib::VisitedList* visited_list = graph.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;

  SortedCandidates& list = ThreadCandidates();
  list.Reset(ef);
  list.Offer(graph.fstdistfunc_(query, graph.getDataByInternalId(entry), graph.dist_func_param_), entry);
  visited[entry] = tag;

  std::vector<hnswlib::tableint>& fresh = ThreadFresh();
  fresh.resize(graph.maxM0_ + 1);
  const std::size_t link_bytes = layer == 0 ? graph.size_links_level0_ : graph.size_links_per_element_;
  hnswlib::tableint current;
  while (list.Nearest(true, current)) {
    hnswlib::tableint upcoming;
    if (list.Nearest(false, upcoming)) {
      PrefetchVector(reinterpret_cast<const char*>(graph.get_linklist_at_level(upcoming, layer)), link_bytes);
    }
    std::size_t count;
    if (locks != nullptr) {
      std::lock_guard<std::mutex> lock((*locks)[current]);
      count = FreshNeighbours(graph, current, layer, visited, tag, fresh);
    } else {
      count = FreshNeighbours(graph, current, layer, visited, tag, fresh);
    }
    ScoreFresh(graph, query, fresh, count, [&](float d, hnswlib::tableint id) { list.Offer(d, id); });
  }
  graph.visited_list_pool_->releaseVisitedList(visited_list);
  return list;
}

// Greedy descent through layers `from` down to `above` + 1: on each layer, move to the neighbour
// nearest `query` while one is nearer than the current node. With `locks` (inserts, beside other
// inserts) each node's list is read under its lock.
hnswlib::tableint Descend(const Graph& graph, hnswlib::tableint entry, const float* query, int from, int above,
                          std::vector<std::mutex>* locks) {
  if (from <= above) return entry;
  hnswlib::tableint current = entry;
  float nearest = graph.fstdistfunc_(query, graph.getDataByInternalId(current), graph.dist_func_param_);
  for (int layer = from; layer > above; layer--) {
    for (bool moved = true; moved;) {
      moved = false;
      std::unique_lock<std::mutex> guard;
      if (locks != nullptr) guard = std::unique_lock<std::mutex>((*locks)[current]);
      const hnswlib::linklistsizeint* links = graph.get_linklist(current, layer);
      const int size = graph.getListCount(const_cast<hnswlib::linklistsizeint*>(links));
      const auto* neighbours = reinterpret_cast<const hnswlib::tableint*>(links + 1);
      const hnswlib::tableint from_node = current;
      for (int i = 0; i < size; i++) {
        const hnswlib::tableint candidate = neighbours[i];
        if (candidate > graph.max_elements_) {
          throw std::runtime_error("the graph links node " + std::to_string(from_node) + " to a node past its end");
        }
        const float d = graph.fstdistfunc_(query, graph.getDataByInternalId(candidate), graph.dist_func_param_);
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

// Inserts (or, for a label already in the graph, updates) one vector with the effect of hnswlib's
// addPoint(vector, label) on a graph with no deleted node: the same locks taken in the same order,
// the same level drawn from the graph's generator, and on each layer from the node's level down
// hnswlib's own neighbour selection and linking (mutuallyConnectNewElement) — only the candidates
// are found by SortedSearch instead of searchBaseLayer. So with one thread the graph equals the one
// hnswlib builds with the same kernels, distances without ties (the tests compare the files).
void InsertSorted(Graph& graph, const float* vector, hnswlib::labeltype label) {
  std::lock_guard<std::mutex> label_guard(graph.getLabelOpMutex(label));
  hnswlib::tableint node;
  {
    std::unique_lock<std::mutex> table(graph.label_lookup_lock);
    const auto existing = graph.label_lookup_.find(label);
    if (existing != graph.label_lookup_.end()) {
      const hnswlib::tableint id = existing->second;
      table.unlock();
      graph.updatePoint(vector, id, 1.0);  // hnswlib's update: the new vector, its links repaired
      return;
    }
    if (graph.cur_element_count >= graph.max_elements_) {
      throw std::runtime_error("the graph is full (" + std::to_string(graph.max_elements_) + " elements); resize first");
    }
    node = static_cast<hnswlib::tableint>(graph.cur_element_count++);
    graph.label_lookup_[label] = node;
  }

  std::lock_guard<std::mutex> node_guard(graph.link_list_locks_[node]);
  const int level = graph.getRandomLevel(graph.mult_);
  graph.element_levels_[node] = level;
  // A node reaching above the top layer becomes the entry point: other inserts wait on the global
  // lock until it is linked.
  std::unique_lock<std::mutex> top_guard(graph.global);
  const int top = graph.maxlevel_;
  if (level <= top) top_guard.unlock();
  const hnswlib::tableint entry = graph.enterpoint_node_;

  std::memset(graph.data_level0_memory_ + node * graph.size_data_per_element_ + graph.offsetLevel0_, 0,
              graph.size_data_per_element_);
  std::memcpy(graph.getExternalLabeLp(node), &label, sizeof(hnswlib::labeltype));
  std::memcpy(graph.getDataByInternalId(node), vector, graph.data_size_);
  if (level > 0) {
    const std::size_t upper_bytes = graph.size_links_per_element_ * level + 1;
    graph.linkLists_[node] = static_cast<char*>(std::calloc(upper_bytes, 1));
    if (graph.linkLists_[node] == nullptr) throw std::runtime_error("out of memory for a node's upper-layer links");
  }

  if (entry != static_cast<hnswlib::tableint>(-1)) {
    hnswlib::tableint nearest = Descend(graph, entry, vector, top, level, &graph.link_list_locks_);
    for (int layer = std::min(level, top); layer >= 0; layer--) {
      const SortedCandidates& list =
          SortedSearch(graph, nearest, vector, layer, graph.ef_construction_, &graph.link_list_locks_);
      std::vector<Scored> found(list.size());
      for (std::size_t slot = 0; slot < list.size(); slot++) found[slot] = list[slot];
      ScoredQueue candidates(Graph::CompareByFirst(), std::move(found));
      nearest = graph.mutuallyConnectNewElement(vector, node, candidates, layer, false);
    }
  }
  if (level > top) {
    graph.enterpoint_node_ = node;
    graph.maxlevel_ = level;
  }
}

// hnswlib's HierarchicalNSW::searchKnn with the effort passed per call instead of read from the
// shared ef_ member (so concurrent searches may use different ef without a write), writing k
// results best first into the caller's rows: greedy descent through the upper layers as hnswlib,
// then layer 0 by SortedSearch when `loop` is kSorted and nothing is deleted or filtered,
// else by SearchLayer0 (hnswlib's searchBaseLayerST; bare-bone when nothing is deleted and there
// is no filter), then the best k ordered by (distance, label).
void SearchOne(const Graph& graph, HnswSearchLoop loop, const float* query, std::size_t k, std::size_t ef,
               hnswlib::BaseFilterFunctor* filter, std::uint32_t* labels, float* distances) {
  std::size_t found = 0;
  if (graph.cur_element_count != 0) {
    const hnswlib::tableint current = Descend(graph, graph.enterpoint_node_, query, graph.maxlevel_, 0, nullptr);
    const std::size_t effort = std::max(ef, k);
    const bool bare_bone = graph.num_deleted_ == 0 && filter == nullptr;
    std::priority_queue<std::pair<float, hnswlib::labeltype>> ordered;
    if (loop == HnswSearchLoop::kSorted && bare_bone && graph.max_elements_ <= kSortedSearchMaxElements) {
      const SortedCandidates& list = SortedSearch(graph, current, query, 0, effort, nullptr);
      for (std::size_t slot = 0; slot < std::min(k, list.size()); slot++) {
        ordered.emplace(list[slot].first, graph.getExternalLabel(list[slot].second));
      }
    } else {
      auto top = bare_bone ? SearchLayer0<true>(graph, current, query, effort, filter)
                           : SearchLayer0<false>(graph, current, query, effort, filter);
      while (top.size() > k) top.pop();
      while (!top.empty()) {
        ordered.emplace(top.top().first, graph.getExternalLabel(top.top().second));
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

// Runs body over [0, count) on the pool; rethrows the first failure's message after all stop.
void RunAll(std::size_t count, std::size_t threads, const std::function<void(std::size_t)>& body) {
  std::mutex error_lock;
  std::string error;
  ParallelFor(count, threads, [&](std::size_t item) {
    try {
      body(item);
      return true;
    } catch (const std::exception& failure) {
      std::lock_guard<std::mutex> guard(error_lock);
      if (error.empty()) error = failure.what();
      return false;
    }
  });
  if (!error.empty()) throw std::runtime_error(error);
}

// ExactAmong uses a thread per this many multiply-adds (labels × dim), splits its labels into up to
// kExactPartsPerThread parts per thread, and never below kExactPartLabels labels per part: a thread
// hand-off costs tens of microseconds.
constexpr std::size_t kExactPartWork = std::size_t{1} << 20;
constexpr std::size_t kExactPartLabels = 256;
constexpr std::size_t kExactPartsPerThread = 4;
// Labels resolved to their vectors per chunk before any is scored (a hash look-up between two
// distance computations measured about twice as slow on mnist-784's scattered digit classes), and
// vectors requested from memory this many rows ahead of their turn (measured on mnist-784 with
// 6,000 labels: 2.4 → 1.3 ms for one digit class; 2, 8 and 16 rows ahead, and visiting the vectors
// in address order, were no better).
constexpr std::size_t kResolveChunk = 256;
constexpr std::size_t kPrefetchRows = 4;

// The k best of `count` labels by the graph's own distance to `query`, best first, ties to the
// lower label, padded with kNoLabel / +infinity.
void ScoreAmong(const Graph& graph, const float* query, const std::uint32_t* labels, std::size_t count,
                std::size_t k, std::uint32_t* out_labels, float* out_distances) {
  const std::size_t bytes = graph.data_size_;
  LabelTopK heap(out_labels, out_distances, k);
  thread_local std::vector<const char*> vectors;
  for (std::size_t chunk = 0; chunk < count; chunk += kResolveChunk) {
    const std::size_t chunk_count = std::min(kResolveChunk, count - chunk);
    vectors.resize(chunk_count);
    for (std::size_t i = 0; i < chunk_count; ++i) {
      const auto found = graph.label_lookup_.find(labels[chunk + i]);
      if (found == graph.label_lookup_.end()) {
        throw std::runtime_error("label " + std::to_string(labels[chunk + i]) + " is not in the graph");
      }
      vectors[i] = graph.getDataByInternalId(found->second);
    }
    for (std::size_t i = 0; i < std::min(chunk_count, kPrefetchRows); ++i) PrefetchVector(vectors[i], bytes);
    for (std::size_t i = 0; i < chunk_count; ++i) {
      if (i + kPrefetchRows < chunk_count) PrefetchVector(vectors[i + kPrefetchRows], bytes);
      heap.Push(graph.fstdistfunc_(query, vectors[i], graph.dist_func_param_), labels[chunk + i]);
    }
  }
  heap.Finish();
}

// Asks the kernel to back the 2 MiB-aligned part of [data, data + bytes) with transparent huge
// pages where it offers them on request (Linux with THP "madvise" or "always"; a no-op elsewhere).
// For the graph's element array, which is written or read in full: a 4 KiB page fault is costly in
// a virtual machine (on this project's, reading a 63 MB graph took 0.30 s with 4 KiB pages and
// 0.04 s with huge pages), and fewer, larger pages also spare the TLB during searches.
void AdviseHugePages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{1} << 21;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t start = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (begin + bytes) & ~(kHuge - 1);
  if (data != nullptr && end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

// A read-only file for ReadGraphFile: buffered, closed on every path out.
class GraphFileReader {
 public:
  explicit GraphFileReader(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb")) {
    if (file_ == nullptr) throw std::runtime_error("cannot open " + path);
    std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
  }
  ~GraphFileReader() { std::fclose(file_); }
  GraphFileReader(const GraphFileReader&) = delete;
  GraphFileReader& operator=(const GraphFileReader&) = delete;

  void Read(void* into, std::size_t bytes) {
    if (std::fread(into, 1, bytes, file_) != bytes) Fail("it ends early");
  }
  template <typename T>
  T Read() {
    T value;
    Read(&value, sizeof(T));
    return value;
  }
  bool AtEnd() { return std::fgetc(file_) == EOF; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error("the graph file " + path_ + " is corrupted or not an HNSW graph: " + what);
  }

 private:
  const std::string path_;
  std::FILE* const file_;
};

// True when a stored link list (a count, then ids) holds at most `most` ids, all below `count`.
bool LinksValid(const hnswlib::linklistsizeint* links, std::size_t most, std::size_t count) {
  const std::size_t size = *links & 0xFFFFu;  // hnswlib's getListCount
  if (size > most) return false;
  const auto* ids = reinterpret_cast<const hnswlib::tableint*>(links + 1);
  for (std::size_t i = 0; i < size; i++) {
    if (ids[i] >= count) return false;
  }
  return true;
}

// Reads a graph file in hnswlib's format (its saveIndex) into a new graph over `space`, in the
// state hnswlib's loadIndex leaves (capacity as in the file, nothing replaceable), in one
// sequential pass. loadIndex first walks the file to check its length with a seek and two
// position queries per element, each of which drops the stream's buffer: for 100,000 elements of
// 128 floats that walk re-reads most of the file in small pieces and took 0.7 s of a 0.75 s load.
// In its place, before anything is used: the header fits, the elements have the layout of `dim`
// floats, each element's upper layers come as whole link lists, every link list is within its
// layer's degree and names elements of the graph, the entry point is one, and the file ends where
// the last list does.
std::unique_ptr<Graph> ReadGraphFile(hnswlib::SpaceInterface<float>* space, std::size_t dim,
                                     const std::string& path) {
  GraphFileReader file(path);
  auto graph = std::make_unique<Graph>(space);
  graph->offsetLevel0_ = file.Read<std::size_t>();
  const auto capacity = file.Read<std::size_t>();
  const auto count = file.Read<std::size_t>();
  graph->size_data_per_element_ = file.Read<std::size_t>();
  graph->label_offset_ = file.Read<std::size_t>();
  graph->offsetData_ = file.Read<std::size_t>();
  graph->maxlevel_ = file.Read<int>();
  graph->enterpoint_node_ = file.Read<hnswlib::tableint>();
  graph->maxM_ = file.Read<std::size_t>();
  graph->maxM0_ = file.Read<std::size_t>();
  graph->M_ = file.Read<std::size_t>();
  graph->mult_ = file.Read<double>();
  graph->ef_construction_ = file.Read<std::size_t>();

  graph->size_links_level0_ = graph->maxM0_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  graph->size_links_per_element_ = graph->maxM_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  const std::size_t vector_bytes = dim * sizeof(float);
  if (graph->maxM0_ > 0xFFFFu || graph->maxM_ > 0xFFFFu || graph->maxM_ == 0 || graph->offsetLevel0_ != 0 ||
      graph->offsetData_ != graph->size_links_level0_ ||
      graph->label_offset_ != graph->size_links_level0_ + vector_bytes ||
      graph->size_data_per_element_ != graph->size_links_level0_ + vector_bytes + sizeof(hnswlib::labeltype)) {
    throw std::runtime_error("the graph file's elements do not hold vectors of dim " + std::to_string(dim));
  }
  if (count > capacity || capacity > std::numeric_limits<std::size_t>::max() / graph->size_data_per_element_) {
    file.Fail("it holds " + std::to_string(count) + " elements in a capacity of " + std::to_string(capacity));
  }
  if (count > 0 && (graph->enterpoint_node_ >= count || graph->maxlevel_ < 0)) file.Fail("its entry point is not an element");
  // As loadIndex(path, space, 0): the file's capacity, or none for an empty graph.
  const std::size_t max_elements = count > 0 ? capacity : 0;
  graph->max_elements_ = max_elements;
  graph->data_size_ = space->get_data_size();
  graph->fstdistfunc_ = space->get_dist_func();
  graph->dist_func_param_ = space->get_dist_func_param();

  graph->data_level0_memory_ = static_cast<char*>(std::malloc(max_elements * graph->size_data_per_element_));
  if (graph->data_level0_memory_ == nullptr && max_elements > 0) throw std::runtime_error("out of memory for the graph");
  AdviseHugePages(graph->data_level0_memory_, max_elements * graph->size_data_per_element_);
  file.Read(graph->data_level0_memory_, count * graph->size_data_per_element_);
  std::vector<std::mutex>(max_elements).swap(graph->link_list_locks_);
  std::vector<std::mutex>(Graph::MAX_LABEL_OPERATION_LOCKS).swap(graph->label_op_locks_);
  graph->visited_list_pool_ = std::make_unique<hnswlib::VisitedListPool>(1, max_elements);
  graph->linkLists_ = static_cast<char**>(std::malloc(sizeof(void*) * max_elements));
  if (graph->linkLists_ == nullptr && max_elements > 0) throw std::runtime_error("out of memory for the graph");
  graph->element_levels_ = std::vector<int>(max_elements);
  graph->revSize_ = 1.0 / graph->mult_;
  graph->ef_ = 10;

  // cur_element_count grows with the elements read, so a failure part-way frees only what exists.
  graph->label_lookup_.reserve(count);
  for (std::size_t i = 0; i < count; i++) {
    const auto node = static_cast<hnswlib::tableint>(i);
    if (!LinksValid(graph->get_linklist0(node), graph->maxM0_, count)) file.Fail("element " + std::to_string(i) + "'s layer-0 links");
    graph->label_lookup_[graph->getExternalLabel(node)] = node;
    const auto bytes = file.Read<unsigned int>();
    if (bytes % graph->size_links_per_element_ != 0) file.Fail("element " + std::to_string(i) + "'s upper links");
    const int levels = static_cast<int>(bytes / graph->size_links_per_element_);
    if (levels > graph->maxlevel_) file.Fail("element " + std::to_string(i) + " is above the top layer");
    graph->linkLists_[i] = nullptr;
    if (levels > 0) {
      graph->linkLists_[i] = static_cast<char*>(std::malloc(bytes));
      if (graph->linkLists_[i] == nullptr) throw std::runtime_error("out of memory for the graph");
      graph->element_levels_[i] = levels;
      graph->cur_element_count = i + 1;
      file.Read(graph->linkLists_[i], bytes);
      for (int layer = 1; layer <= levels; layer++) {
        if (!LinksValid(graph->get_linklist(node, layer), graph->maxM_, count)) {
          file.Fail("element " + std::to_string(i) + "'s links on layer " + std::to_string(layer));
        }
      }
    }
    graph->cur_element_count = i + 1;
  }
  if (!file.AtEnd()) file.Fail("bytes follow its last element");
  for (std::size_t i = 0; i < count; i++) {
    if (graph->isMarkedDeleted(static_cast<hnswlib::tableint>(i))) graph->num_deleted_ += 1;
  }
  return graph;
}

}  // namespace

HnswGraph::HnswGraph(HnswSpace space, std::size_t dim, HnswKernels kernels, HnswSearchLoop loop)
    : space_kind_(space), dim_(dim), loop_(loop) {
  if (kernels == HnswKernels::kDispatched) {
    space_ = std::make_unique<DispatchedSpace>(space, dim);
  } else if (space == HnswSpace::kL2) {
    space_ = std::make_unique<hnswlib::L2Space>(dim);
  } else {
    space_ = std::make_unique<hnswlib::InnerProductSpace>(dim);
  }
}

HnswGraph::~HnswGraph() = default;

Graph& HnswGraph::Open() const {
  if (!index_) throw std::runtime_error("the HNSW graph is not initialised or was disposed");
  return *index_;
}

void HnswGraph::Init(std::size_t max_elements, std::size_t m, std::size_t ef_construction, std::size_t seed) {
  auto fresh = std::make_unique<Graph>(space_.get(), max_elements, m, ef_construction, seed, false);
  AdviseHugePages(fresh->data_level0_memory_, max_elements * fresh->size_data_per_element_);
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  index_.swap(fresh);
}

void HnswGraph::Load(const std::string& path) {
  // Read unlocked: the new graph is private until the swap.
  auto loaded = ReadGraphFile(space_.get(), dim_, path);
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  index_.swap(loaded);
}

void HnswGraph::Save(const std::string& path) const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  Open().saveIndex(path);  // reads the graph only
}

void HnswGraph::Resize(std::size_t max_elements) {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  Graph& graph = Open();
  graph.resizeIndex(max_elements);
  AdviseHugePages(graph.data_level0_memory_, max_elements * graph.size_data_per_element_);
}

void HnswGraph::AddBatch(const float* vectors, const std::uint32_t* labels, std::size_t count, std::size_t threads) {
  const HnswSpace space = space_kind_;
  const std::size_t dim = dim_;
  for (std::size_t start = 0; start < count; start += kAddChunk) {
    const std::size_t end = std::min(count, start + kAddChunk);
    std::unique_lock<std::shared_mutex> exclusive(lock_);
    Graph& graph = Open();
    if (start == 0) {
      // Refuse the whole batch up front rather than fail half-way at hnswlib's capacity check.
      std::size_t fresh = 0;
      for (std::size_t row = 0; row < count; row++) fresh += graph.label_lookup_.count(labels[row]) == 0 ? 1 : 0;
      if (graph.cur_element_count + fresh > graph.max_elements_) {
        throw std::runtime_error("the batch adds " + std::to_string(fresh) + " labels to " +
                                 std::to_string(graph.cur_element_count) + " but the graph holds at most " +
                                 std::to_string(graph.max_elements_) + "; resize first");
      }
    }
    // Inserts search as queries do: over the sorted list, unless nodes are deleted (hnswlib's
    // searchBaseLayer keeps them out of the neighbours it links; SortedSearch does not).
    const bool sorted = loop_ == HnswSearchLoop::kSorted && graph.num_deleted_ == 0 &&
                        graph.max_elements_ <= kSortedSearchMaxElements;
    RunAll(end - start, threads, [&](std::size_t item) {
      const std::size_t row = start + item;
      const float* prepared = Prepared(space, vectors + row * dim, dim);
      if (sorted) {
        InsertSorted(graph, prepared, labels[row]);
      } else {
        graph.addPoint(prepared, labels[row]);
      }
    });
  }
}

void HnswGraph::MarkDelete(std::uint32_t label) {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  Open().markDelete(label);
}

void HnswGraph::SearchBatch(const float* queries, std::size_t count, std::size_t k, std::size_t ef,
                            std::size_t threads, const AllowList& allow, std::uint32_t* labels,
                            float* distances) const {
  const HnswSpace space = space_kind_;
  const std::size_t dim = dim_;
  std::shared_lock<std::shared_mutex> shared(lock_);
  const Graph& graph = Open();
  RunAll(count, threads, [&](std::size_t query) {
    // hnswlib calls the filter through a non-const pointer; one functor per query keeps threads apart.
    AllowListFilter filter(allow);
    SearchOne(graph, loop_, Prepared(space, queries + query * dim, dim), k, ef,
              allow.elements != nullptr ? &filter : nullptr, labels + query * k, distances + query * k);
  });
}

void HnswGraph::ExactAmong(const float* query, const std::uint32_t* labels, std::size_t count, std::size_t k,
                           std::size_t threads, std::uint32_t* out_labels, float* out_distances) const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const Graph& graph = Open();
  // The calling thread's buffer: valid for this whole call, and only read by the helpers.
  const float* prepared = Prepared(space_kind_, query, dim_);
  const std::size_t worker_count = std::min({threads, std::max<std::size_t>(1, count * dim_ / kExactPartWork),
                                             std::max<std::size_t>(1, count / kExactPartLabels)});
  if (worker_count <= 1) {
    ScoreAmong(graph, prepared, labels, count, k, out_labels, out_distances);
    return;
  }
  // Several parts per thread: a thread paused mid-part holds the others up for one small part only.
  const std::size_t parts = std::min(worker_count * kExactPartsPerThread, count / kExactPartLabels);
  // Per part: the k best of a contiguous slice of `labels`, then one merge in part order. The
  // order (distance, label) is total and every label is scored by the same function whatever the
  // part, so the answer equals the single-part one.
  std::vector<std::uint32_t> part_labels(parts * k);
  std::vector<float> part_distances(parts * k);
  RunAll(parts, worker_count, [&](std::size_t part) {
    const std::size_t first = count * part / parts;
    const std::size_t end = count * (part + 1) / parts;
    ScoreAmong(graph, prepared, labels + first, end - first, k, part_labels.data() + part * k,
               part_distances.data() + part * k);
  });
  LabelTopK merged(out_labels, out_distances, k);
  for (std::size_t part = 0; part < parts; ++part) {
    for (std::size_t slot = 0; slot < k && part_labels[part * k + slot] != kNoLabel; ++slot) {
      merged.Push(part_distances[part * k + slot], part_labels[part * k + slot]);
    }
  }
  merged.Finish();
}

void HnswGraph::ReadVectors(const std::uint32_t* labels, std::size_t count, float* out) const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const Graph& graph = Open();
  for (std::size_t i = 0; i < count; i++) {
    const auto found = graph.label_lookup_.find(labels[i]);
    if (found == graph.label_lookup_.end()) throw std::runtime_error("label " + std::to_string(labels[i]) + " is not in the graph");
    const float* data = reinterpret_cast<const float*>(graph.getDataByInternalId(found->second));
    std::copy(data, data + dim_, out + i * dim_);
  }
}

std::vector<std::uint32_t> HnswGraph::Labels() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const Graph& graph = Open();
  std::vector<std::uint32_t> labels;
  labels.reserve(graph.label_lookup_.size());
  for (const auto& entry : graph.label_lookup_) labels.push_back(static_cast<std::uint32_t>(entry.first));
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::size_t HnswGraph::CurrentCount() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  return Open().cur_element_count;
}

std::size_t HnswGraph::MaxElements() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  return Open().max_elements_;
}

void HnswGraph::Dispose() {
  std::unique_ptr<Graph> freed;
  {
    std::unique_lock<std::shared_mutex> exclusive(lock_);
    index_.swap(freed);
  }
}

}  // namespace quiver
