// HnswGraph: the HNSW graph behind its readers-writer lock, the batches spread over the thread
// pool, and the exact scores among a label list. The graph itself is hnsw-store.h (memory),
// hnsw-search.h (searches), hnsw-insert.h (changes) and hnsw-file.h (the file). Inserts and
// searches read vectors in place; only cosine copies, to normalise into a thread-local buffer
// exactly as hnswlib-node does.
#include "hnsw-graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "crc32.h"
#include "hnsw-file.h"
#include "hnsw-insert.h"
#include "hnsw-search.h"
#include "hnsw-store.h"
#include "scalar-quantiser.h"
#include "thread-pool.h"
#include "top-k.h"

namespace quiver {
namespace {

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

HnswDistance ChooseDistance(HnswSpace space, std::size_t dim, HnswKernels kernels, bool int8) {
  if (int8) {
    const bool portable = kernels == HnswKernels::kHnswlib;
    return space == HnswSpace::kL2 ? ChooseInt8L2Distance(portable) : ChooseInt8InnerProductDistance(portable);
  }
  if (kernels == HnswKernels::kDispatched) {
    return space == HnswSpace::kL2 ? ChooseL2Distance() : ChooseInnerProductDistance();
  }
  return space == HnswSpace::kL2 ? HnswlibOrderL2Distance(dim) : HnswlibOrderInnerProductDistance(dim);
}

// What an int8 vector's slot holds in a graph of `space` (scalar-quantiser.h).
Int8Slot SlotOf(HnswSpace space) { return space == HnswSpace::kL2 ? Int8Slot::kNorm : Int8Slot::kBias; }

HnswDistance ChooseQueryDistance(HnswSpace space, HnswKernels kernels) {
  const bool portable = kernels == HnswKernels::kHnswlib;
  return space == HnswSpace::kL2 ? ChooseInt8L2QueryDistance(portable) : ChooseInt8InnerProductQueryDistance(portable);
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

// The k best of `count` labels by the graph's own query distance to `query` (prepared), best
// first, ties to the lower label, padded with kNoLabel / +infinity.
void ScoreAmong(const HnswStore& store, const void* query, const std::uint32_t* labels, std::size_t count,
                std::size_t k, std::uint32_t* out_labels, float* out_distances) {
  const std::size_t bytes = store.vector_bytes;
  LabelTopK heap(out_labels, out_distances, k);
  thread_local std::vector<const char*> vectors;
  for (std::size_t chunk = 0; chunk < count; chunk += kResolveChunk) {
    const std::size_t chunk_count = std::min(kResolveChunk, count - chunk);
    vectors.resize(chunk_count);
    for (std::size_t i = 0; i < chunk_count; ++i) {
      const auto found = store.label_lookup.find(labels[chunk + i]);
      if (found == store.label_lookup.end()) {
        throw std::runtime_error("label " + std::to_string(labels[chunk + i]) + " is not in the graph");
      }
      vectors[i] = store.Vector(found->second);
    }
    for (std::size_t i = 0; i < std::min(chunk_count, kPrefetchRows); ++i) PrefetchBytes(vectors[i], bytes);
    for (std::size_t i = 0; i < chunk_count; ++i) {
      if (i + kPrefetchRows < chunk_count) PrefetchBytes(vectors[i + kPrefetchRows], bytes);
      heap.Push(store.QueryDistance(query, vectors[i]), labels[chunk + i]);
    }
  }
  heap.Finish();
}

}  // namespace

HnswGraph::HnswGraph(HnswSpace space, std::size_t dim, HnswKernels kernels, HnswSearchLoop loop)
    : space_kind_(space),
      dim_(dim),
      loop_(loop),
      distance_(ChooseDistance(space, dim, kernels, false)),
      query_distance_(distance_),
      legacy_norms_(false) {}

HnswGraph::HnswGraph(HnswSpace space, std::size_t dim, HnswKernels kernels, HnswSearchLoop loop,
                     std::unique_ptr<const ScalarQuantiser> quantiser, bool legacy_norms)
    : space_kind_(space),
      dim_(dim),
      loop_(loop),
      distance_(ChooseDistance(space, dim, kernels, quantiser != nullptr)),
      query_distance_(quantiser == nullptr ? distance_ : ChooseQueryDistance(space, kernels)),
      quantiser_(std::move(quantiser)),
      legacy_norms_(legacy_norms) {
  if (quantiser_ && quantiser_->dim() != dim) throw std::runtime_error("the int8 ranges are not of the graph's dim");
}

HnswGraph::PreparedRow HnswGraph::Prepared(const float* row, bool stored) const {
  const float* vector = row;
  if (space_kind_ == HnswSpace::kCosine) {
    thread_local std::vector<float> normalised;
    NormalizeInto(row, dim_, normalised);
    vector = normalised.data();
  }
  if (!quantiser_) return {vector, vector};
  const Int8Slot slot = SlotOf(space_kind_);
  thread_local std::vector<char> codes;
  thread_local std::vector<std::int16_t> values;
  thread_local Int8Query query;
  values.resize(dim_);
  quantiser_->PrepareQuery(vector, slot, values.data(), &query);
  if (!stored) return {nullptr, &query};
  codes.resize(quantiser_->code_bytes());
  quantiser_->Encode(vector, slot, codes.data());
  return {codes.data(), &query};
}

void HnswGraph::Adopt(HnswStore& store, bool loaded) const {
  if (!quantiser_) return;
  store.query_distance = query_distance_;
  if (!loaded || !legacy_norms_ || SlotOf(space_kind_) != Int8Slot::kNorm) return;
  for (std::size_t node = 0; node < store.count; node++) {
    quantiser_->StoreNorm(store.Element(static_cast<NodeId>(node)) + store.vector_offset);
  }
}

HnswGraph::~HnswGraph() = default;

HnswStore& HnswGraph::Open() const {
  if (!store_) throw std::runtime_error("the HNSW graph is not initialised or was disposed");
  return *store_;
}

HnswStore& HnswGraph::Ready() const {
  HnswStore& store = Open();
  if (pending_) throw std::runtime_error("the HNSW graph still awaits its vectors (fillVectors, finishFill)");
  return store;
}

void HnswGraph::Init(std::size_t max_elements, std::size_t m, std::size_t ef_construction, std::size_t seed) {
  std::unique_ptr<HnswStore> fresh;
  if (quantiser_) {
    fresh = std::make_unique<HnswStore>(dim_, distance_, quantiser_->code_bytes(), quantiser_->params());
    fresh->Init(max_elements, m, ef_construction, seed);
    Adopt(*fresh, false);
  } else {
    fresh = std::make_unique<HnswStore>(dim_, distance_, max_elements, m, ef_construction, seed);
  }
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  store_.swap(fresh);
  pending_.reset();
}

void HnswGraph::Load(const std::string& path) {
  // Read unlocked: the new graph is private until the swap.
  auto loaded = quantiser_ ? ReadGraphFile(dim_, distance_, path, quantiser_->code_bytes(), quantiser_->params())
                          : ReadGraphFile(dim_, distance_, path);
  Adopt(*loaded, true);
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  store_.swap(loaded);
  pending_.reset();
}

void HnswGraph::LoadRange(const std::string& path, const GraphRange& range, bool without_vectors) {
  if (without_vectors && quantiser_) throw std::runtime_error("an int8 graph's snapshot holds its codes");
  auto pending = without_vectors ? std::make_unique<PendingVectors>() : nullptr;
  auto loaded = quantiser_
                    ? ReadGraphRange(dim_, distance_, path, range, quantiser_->code_bytes(), quantiser_->params())
                    : ReadGraphRange(dim_, distance_, path, range, 0, nullptr, pending.get());
  Adopt(*loaded, true);
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  store_.swap(loaded);
  pending_.swap(pending);
}

void HnswGraph::Save(const std::string& path, bool vectors) const {
  if (!vectors && quantiser_) throw std::runtime_error("an int8 graph's codes are not the records' vectors");
  std::shared_lock<std::shared_mutex> shared(lock_);
  WriteGraphFile(Ready(), path, vectors);
}

std::vector<std::uint32_t> HnswGraph::FillVectors(const std::uint32_t* labels, std::size_t count,
                                                  const unsigned char* rows) {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  HnswStore& store = Open();
  if (!pending_) throw std::runtime_error("the HNSW graph awaits no vectors");
  PendingVectors& pending = *pending_;
  std::vector<std::uint32_t> differing;
  std::vector<float> row(dim_);
  for (std::size_t i = 0; i < count; i++) {
    const auto found = store.label_lookup.find(labels[i]);
    const bool awaited = found != store.label_lookup.end() && pending.filled[found->second] == 0;
    if (!awaited) {  // not in the graph, deleted there (its vector came with the file), or given twice
      differing.push_back(labels[i]);
      continue;
    }
    const NodeId node = found->second;
    std::memcpy(row.data(), rows + i * dim_ * sizeof(float), dim_ * sizeof(float));
    const void* stored = Prepared(row.data(), true).stored;
    std::memcpy(store.Element(node) + store.vector_offset, stored, store.vector_bytes);
    pending.filled[node] = 1;
    if (Crc32(stored, store.vector_bytes, 0) != pending.crc[node]) differing.push_back(labels[i]);
  }
  return differing;
}

std::vector<std::uint32_t> HnswGraph::FinishFill() {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  HnswStore& store = Open();
  if (!pending_) throw std::runtime_error("the HNSW graph awaits no vectors");
  const PendingVectors& pending = *pending_;
  std::vector<std::uint32_t> missing;
  std::vector<float> mean(dim_);
  for (std::size_t i = 0; i < store.count; i++) {
    if (pending.filled[i] != 0) continue;
    const auto node = static_cast<NodeId>(i);
    missing.push_back(static_cast<std::uint32_t>(store.Label(node)));
    // A live element without a record was deleted after the snapshot: the log replay marks it
    // deleted, and searches still pass through it. Its vector is gone, so it gets the mean of its
    // filled layer-0 neighbours', which keeps it near where it was.
    std::fill(mean.begin(), mean.end(), 0.0f);
    std::size_t neighbours = 0;
    const LinkHeader* links = store.Links0(node);
    const NodeId* ids = HnswStore::LinkIds(links);
    for (std::size_t j = 0; j < HnswStore::LinkCount(links); j++) {
      if (pending.filled[ids[j]] == 0) continue;
      const auto* vector = reinterpret_cast<const float*>(store.Vector(ids[j]));
      for (std::size_t d = 0; d < dim_; d++) mean[d] += vector[d];
      neighbours++;
    }
    if (neighbours > 0) {
      for (float& value : mean) value /= static_cast<float>(neighbours);
    }
    std::memcpy(store.Element(node) + store.vector_offset, Prepared(mean.data(), true).stored, store.vector_bytes);
  }
  pending_.reset();
  return missing;
}

void HnswGraph::Resize(std::size_t max_elements) {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  Ready().Resize(max_elements);
}

void HnswGraph::AddBatch(const float* vectors, const std::uint32_t* labels, std::size_t count, std::size_t threads) {
  const std::size_t dim = dim_;
  for (std::size_t start = 0; start < count; start += kAddChunk) {
    const std::size_t end = std::min(count, start + kAddChunk);
    std::unique_lock<std::shared_mutex> exclusive(lock_);
    HnswStore& store = Ready();
    if (start == 0) {
      // Refuse the whole batch up front rather than fail half-way at the capacity check.
      std::size_t fresh = 0;
      for (std::size_t row = 0; row < count; row++) fresh += store.label_lookup.count(labels[row]) == 0 ? 1 : 0;
      if (store.count + fresh > store.capacity) {
        throw std::runtime_error("the batch adds " + std::to_string(fresh) + " labels to " +
                                 std::to_string(store.count.load()) + " but the graph holds at most " +
                                 std::to_string(store.capacity) + "; resize first");
      }
    }
    // Inserts search as queries do: over the sorted list, unless nodes are deleted (the two-heap
    // search keeps them out of the neighbours it links; SortedSearch does not).
    const bool sorted =
        loop_ == HnswSearchLoop::kSorted && store.deleted == 0 && store.capacity <= kSortedSearchMaxElements;
    RunAll(end - start, threads, [&](std::size_t item) {
      const std::size_t row = start + item;
      const PreparedRow prepared = Prepared(vectors + row * dim, true);
      InsertNode(store, prepared.stored, prepared.query, labels[row], sorted);
    });
  }
}

void HnswGraph::MarkDelete(std::uint32_t label) {
  std::unique_lock<std::shared_mutex> exclusive(lock_);
  MarkDeleted(Ready(), label);
}

void HnswGraph::SearchBatch(const float* queries, std::size_t count, std::size_t k, std::size_t ef,
                            std::size_t threads, const AllowList& allow, std::uint32_t* labels,
                            float* distances) const {
  const std::size_t dim = dim_;
  std::shared_lock<std::shared_mutex> shared(lock_);
  const HnswStore& store = Ready();
  const AllowList* filter = allow.elements != nullptr ? &allow : nullptr;
  RunAll(count, threads, [&](std::size_t query) {
    SearchOne(store, loop_, Prepared(queries + query * dim, false).query, k, ef, filter, labels + query * k,
              distances + query * k);
  });
}

void HnswGraph::ExactAmong(const float* query, const std::uint32_t* labels, std::size_t count, std::size_t k,
                           std::size_t threads, std::uint32_t* out_labels, float* out_distances) const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const HnswStore& store = Ready();
  // The calling thread's buffer: valid for this whole call, and only read by the helpers.
  const void* prepared = Prepared(query, false).query;
  const std::size_t worker_count = std::min({threads, std::max<std::size_t>(1, count * dim_ / kExactPartWork),
                                             std::max<std::size_t>(1, count / kExactPartLabels)});
  if (worker_count <= 1) {
    ScoreAmong(store, prepared, labels, count, k, out_labels, out_distances);
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
    ScoreAmong(store, prepared, labels + first, end - first, k, part_labels.data() + part * k,
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
  const HnswStore& store = Ready();
  for (std::size_t i = 0; i < count; i++) {
    const auto found = store.label_lookup.find(labels[i]);
    if (found == store.label_lookup.end()) throw std::runtime_error("label " + std::to_string(labels[i]) + " is not in the graph");
    if (quantiser_) {
      quantiser_->Decode(store.Vector(found->second), out + i * dim_);
      continue;
    }
    const float* data = reinterpret_cast<const float*>(store.Vector(found->second));
    std::copy(data, data + dim_, out + i * dim_);
  }
}

void HnswGraph::StoredDistances(const std::uint32_t* first, const std::uint32_t* second, std::size_t count,
                                float* out) const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const HnswStore& store = Ready();
  const auto vector_of = [&](std::uint32_t label) {
    const auto found = store.label_lookup.find(label);
    if (found == store.label_lookup.end()) throw std::runtime_error("label " + std::to_string(label) + " is not in the graph");
    return store.Vector(found->second);
  };
  for (std::size_t i = 0; i < count; i++) out[i] = store.Distance(vector_of(first[i]), vector_of(second[i]));
}

std::vector<std::uint32_t> HnswGraph::Labels() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  const HnswStore& store = Open();
  std::vector<std::uint32_t> labels;
  labels.reserve(store.label_lookup.size());
  for (const auto& entry : store.label_lookup) labels.push_back(static_cast<std::uint32_t>(entry.first));
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::size_t HnswGraph::CurrentCount() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  return Open().count;
}

std::size_t HnswGraph::MaxElements() const {
  std::shared_lock<std::shared_mutex> shared(lock_);
  return Open().capacity;
}

void HnswGraph::Dispose() {
  std::unique_ptr<HnswStore> freed;
  {
    std::unique_lock<std::shared_mutex> exclusive(lock_);
    store_.swap(freed);
    pending_.reset();
  }
}

}  // namespace quiver
