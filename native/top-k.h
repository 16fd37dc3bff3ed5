// A bounded max-heap that keeps the k best (distance, label) pairs, stored directly in the caller's
// output buffers so that a scan allocates nothing. Order: smaller distance first, then lower label.
// NaN distances are treated as +Infinity so that the order stays total. Labels are int32 row
// indexes (TopK, padding -1) or uint32 graph labels (LabelTopK, padding 0xFFFFFFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

namespace quiver {

template <typename Label>
class BasicTopK {
 public:
  BasicTopK(Label* labels, float* distances, std::size_t k) : labels_(labels), distances_(distances), k_(k) {}

  // Re-attaches to a heap left in the buffers after `pushed` earlier pushes (the heap then holds
  // min(k, pushed) pairs, because a push into a heap that is not full always inserts). This lets a
  // tiled scan keep one heap per query without any storage beyond the output buffers.
  static BasicTopK Resume(Label* labels, float* distances, std::size_t k, std::size_t pushed) {
    BasicTopK heap(labels, distances, k);
    heap.size_ = pushed < k ? pushed : k;
    return heap;
  }

  // Offers one pair; inline and branch-light because scans call it for every row.
  void Push(float distance, Label label) {
    if (distance != distance) distance = std::numeric_limits<float>::infinity();
    if (size_ < k_) {
      std::size_t child = size_++;
      distances_[child] = distance;
      labels_[child] = label;
      SiftUp(child);
    } else if (distance < distances_[0] || (distance == distances_[0] && label < labels_[0])) {
      distances_[0] = distance;
      labels_[0] = label;
      SiftDown(0, size_);
    }
  }

  // Sorts the kept pairs best first and pads the unused slots with label -1 (as Label), distance +Infinity.
  void Finish() {
    for (std::size_t end = size_; end > 1; --end) {
      Swap(0, end - 1);
      SiftDown(0, end - 1);
    }
    for (std::size_t slot = size_; slot < k_; ++slot) {
      labels_[slot] = static_cast<Label>(-1);
      distances_[slot] = std::numeric_limits<float>::infinity();
    }
  }

 private:
  // a is worse than b: farther, or as far with a higher label.
  bool Worse(std::size_t a, std::size_t b) const {
    return distances_[a] > distances_[b] || (distances_[a] == distances_[b] && labels_[a] > labels_[b]);
  }

  void Swap(std::size_t a, std::size_t b) {
    std::swap(distances_[a], distances_[b]);
    std::swap(labels_[a], labels_[b]);
  }

  void SiftUp(std::size_t child) {
    while (child > 0) {
      const std::size_t parent = (child - 1) / 2;
      if (!Worse(child, parent)) break;
      Swap(child, parent);
      child = parent;
    }
  }

  void SiftDown(std::size_t parent, std::size_t size) {
    for (;;) {
      const std::size_t left = 2 * parent + 1;
      if (left >= size) break;
      std::size_t worst = left;
      const std::size_t right = left + 1;
      if (right < size && Worse(right, left)) worst = right;
      if (!Worse(worst, parent)) break;
      Swap(worst, parent);
      parent = worst;
    }
  }

  Label* labels_;
  float* distances_;
  std::size_t k_;
  std::size_t size_ = 0;
};

using TopK = BasicTopK<std::int32_t>;
using LabelTopK = BasicTopK<std::uint32_t>;

}  // namespace quiver
