// The worker pool behind ParallelFor. The pool is created on first use, grows to the largest
// helper count asked for (capped), and is never destroyed: its threads are detached and end with
// the process, so no static destructor has to join a thread that may be mid-task at exit.
#include "thread-pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace quiver {
namespace {

// More helpers than this would only add context switches; a request above it is clamped.
constexpr std::size_t kMaxHelpers = 256;

class Pool {
 public:
  // Queues `task` and makes sure at least `helpers` threads exist to run queued tasks.
  void Submit(std::function<void()> task, std::size_t helpers) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (started_ < std::min(helpers, kMaxHelpers)) {
      std::thread([this] { Work(); }).detach();
      ++started_;
    }
    tasks_.push_back(std::move(task));
    ready_.notify_one();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;  // guards tasks_ and started_
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::size_t started_ = 0;
};

Pool& SharedPool() {
  static Pool* pool = new Pool();  // intentionally leaked, see the file comment
  return *pool;
}

// One ParallelFor call, shared with its helpers. Invariant: `body` is dereferenced only by the
// caller and by helpers that registered in `active` before `closed` was set; the caller returns
// only once closed is set and active is back to 0, so body (on the caller's stack) outlives every
// use. A helper that starts after closing touches only this shared_ptr-owned state.
struct Job {
  Job(std::size_t item_count, const std::function<bool(std::size_t)>* job_body)
      : count(item_count), body(job_body) {}

  const std::size_t count;
  const std::function<bool(std::size_t)>* const body;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards closed and active
  std::condition_variable idle;
  bool closed = false;
  std::size_t active = 0;

  void RunItems() {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t item = next.fetch_add(1, std::memory_order_relaxed);
      if (item >= count) return;
      if (!(*body)(item)) stop.store(true, std::memory_order_relaxed);
    }
  }
};

}  // namespace

std::size_t HardwareThreads() {
  const unsigned reported = std::thread::hardware_concurrency();
  return reported == 0 ? 1 : static_cast<std::size_t>(reported);
}

void ParallelFor(std::size_t count, std::size_t threads, const std::function<bool(std::size_t)>& body) {
  if (count == 0) return;
  const std::size_t helpers = std::min({threads > 0 ? threads - 1 : 0, count - 1, kMaxHelpers});
  if (helpers == 0) {
    for (std::size_t item = 0; item < count; ++item) {
      if (!body(item)) return;
    }
    return;
  }
  auto job = std::make_shared<Job>(count, &body);
  for (std::size_t helper = 0; helper < helpers; ++helper) {
    // A thread that cannot be started (std::system_error) only means fewer helpers: the caller
    // below still runs every item, and the close-and-wait protocol covers the helpers queued so far.
    try {
      SharedPool().Submit(
          [job] {
            {
              std::lock_guard<std::mutex> lock(job->mutex);
              if (job->closed) return;
              ++job->active;
            }
            job->RunItems();
            std::lock_guard<std::mutex> lock(job->mutex);
            if (--job->active == 0) job->idle.notify_all();
          },
          helpers);
    } catch (const std::exception&) {
      break;
    }
  }
  job->RunItems();
  std::unique_lock<std::mutex> lock(job->mutex);
  job->closed = true;
  job->idle.wait(lock, [&job] { return job->active == 0; });
}

}  // namespace quiver
