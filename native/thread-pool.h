// A process-wide pool of native worker threads for batched index work (HNSW inserts and searches).
// Knows nothing of Node-API or hnswlib. The calling thread always works too, so a job finishes
// even when every pool thread is busy with another job: no call can deadlock on the pool.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace quiver {

// Logical cores as the C++ runtime reports them; at least 1.
std::size_t HardwareThreads();

// Runs body(item) for every item in [0, count) on up to `threads` threads (the caller plus
// threads - 1 pool helpers), handing items out in rising order from a shared counter. With
// threads <= 1 every item runs on the calling thread, in order. body must not throw; when it
// returns false the remaining items are skipped (already running ones finish). Returns only after
// every body call has returned. Safe to call from several threads at once.
void ParallelFor(std::size_t count, std::size_t threads, const std::function<bool(std::size_t)>& body);

}  // namespace quiver
