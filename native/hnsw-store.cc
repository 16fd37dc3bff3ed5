// HnswStore's memory: allocation, growth and the level generator; and the pool of visited marks.
#include "hnsw-store.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

namespace quiver {

VisitedPool::Lease VisitedPool::Acquire() {
  std::unique_ptr<Marks> marks;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!free_.empty()) {
      marks = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (!marks) {
    marks = std::make_unique<Marks>();
    marks->mark.assign(nodes_, 0);
  }
  if (++marks->tag == 0) {
    std::fill(marks->mark.begin(), marks->mark.end(), std::uint16_t{0});
    marks->tag = 1;
  }
  return Lease(*this, std::move(marks));
}

void VisitedPool::Return(std::unique_ptr<Marks> marks) {
  std::lock_guard<std::mutex> guard(lock_);
  free_.push_back(std::move(marks));
}

HnswStore::HnswStore(std::size_t dim_in, HnswDistance distance_in)
    : dim(dim_in),
      distance(distance_in),
      vector_bytes(dim_in * sizeof(float)),
      distance_params(&dim),
      query_distance(distance_in),
      label_locks(kLabelLocks) {}

HnswStore::HnswStore(std::size_t dim_in, HnswDistance distance_in, std::size_t vector_bytes_in,
                     const void* distance_params_in)
    : dim(dim_in),
      distance(distance_in),
      vector_bytes(vector_bytes_in),
      distance_params(distance_params_in),
      query_distance(distance_in),
      label_locks(kLabelLocks) {}

HnswStore::HnswStore(std::size_t dim_in, HnswDistance distance_in, std::size_t capacity_in, std::size_t m_in,
                     std::size_t ef_construction_in, std::size_t seed)
    : HnswStore(dim_in, distance_in) {
  Init(capacity_in, m_in, ef_construction_in, seed);
}

void HnswStore::Init(std::size_t capacity_in, std::size_t m_in, std::size_t ef_construction_in, std::size_t seed) {
  m = std::min<std::size_t>(m_in, 10000);
  if (m < 2) throw std::runtime_error("M must be at least 2, got " + std::to_string(m_in));
  ef_construction = std::max(ef_construction_in, m);
  level_mult = 1.0 / std::log(1.0 * static_cast<double>(m));
  level_generator.seed(seed);
  SetLayout(m, 2 * m);
  Allocate(capacity_in);
}

HnswStore::~HnswStore() { std::free(elements); }

void HnswStore::SetLayout(std::size_t upper_links, std::size_t layer0_links) {
  max_links = upper_links;
  max_links0 = layer0_links;
  links0_bytes = max_links0 * sizeof(NodeId) + sizeof(LinkHeader);
  links_bytes = max_links * sizeof(NodeId) + sizeof(LinkHeader);
  vector_offset = links0_bytes;
  label_offset = links0_bytes + vector_bytes;
  element_bytes = links0_bytes + vector_bytes + sizeof(StoredLabel);
}

void HnswStore::Allocate(std::size_t new_capacity) {
  if (new_capacity > std::numeric_limits<std::size_t>::max() / element_bytes) {
    throw std::runtime_error("a graph of " + std::to_string(new_capacity) + " elements does not fit in memory");
  }
  char* memory = static_cast<char*>(std::malloc(std::max<std::size_t>(new_capacity * element_bytes, 1)));
  if (memory == nullptr) throw std::runtime_error("out of memory for a graph of " + std::to_string(new_capacity) + " elements");
  AdviseHugePages(memory, new_capacity * element_bytes);
  std::free(elements);
  elements = memory;
  capacity = new_capacity;
  upper = std::vector<std::unique_ptr<char[]>>(new_capacity);
  levels.assign(new_capacity, 0);
  std::vector<std::mutex>(new_capacity).swap(node_locks);
  visited = std::make_unique<VisitedPool>(new_capacity);
}

void HnswStore::Resize(std::size_t new_capacity) {
  if (new_capacity < count) {
    throw std::runtime_error("cannot resize the graph to " + std::to_string(new_capacity) + " elements: it holds " +
                             std::to_string(count.load()));
  }
  if (new_capacity > std::numeric_limits<std::size_t>::max() / element_bytes) {
    throw std::runtime_error("a graph of " + std::to_string(new_capacity) + " elements does not fit in memory");
  }
  char* memory = static_cast<char*>(std::realloc(elements, std::max<std::size_t>(new_capacity * element_bytes, 1)));
  if (memory == nullptr) throw std::runtime_error("out of memory resizing the graph to " + std::to_string(new_capacity) + " elements");
  elements = memory;
  AdviseHugePages(elements, new_capacity * element_bytes);
  upper.resize(new_capacity);
  levels.resize(new_capacity);
  std::vector<std::mutex>(new_capacity).swap(node_locks);
  visited = std::make_unique<VisitedPool>(new_capacity);
  capacity = new_capacity;
}

int HnswStore::DrawLevel() {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  return static_cast<int>(-std::log(uniform(level_generator)) * level_mult);
}

// For the element array, which is written or read in full: a 4 KiB page fault is costly in a
// virtual machine (reading a 63 MB graph costs several times as much with 4 KiB pages as with
// 2 MiB ones), and fewer, larger pages also spare the TLB during searches.
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

}  // namespace quiver
