#include "broker/detail/login_pool.hpp"

#include <algorithm>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace broker::detail {

login_pool::login_pool(std::size_t threads, std::size_t max_waiting)
    : threads_(std::max<std::size_t>(threads, 1)), max_waiting_(std::max<std::size_t>(max_waiting, 1)) {}

login_pool::~login_pool() { stop(); }

void login_pool::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
    workers.swap(workers_);
  }
  wake_.notify_all();
  for (std::thread& t : workers) t.join();
}

bool login_pool::try_submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_waiting_) return false;
    jobs_.push_back(std::move(job));
    if (workers_.empty()) {
      for (std::size_t i = 0; i < threads_; ++i) workers_.emplace_back([this] { run(); });
    }
  }
  wake_.notify_one();
  return true;
}

std::size_t login_pool::waiting() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

namespace {

// Below the I/O threads (nice +10: about a tenth of their CPU weight), so a login storm on a
// busy machine takes the CPU they leave, and clients already connected keep their latency.
// Linux only: there setpriority on a thread id changes that thread alone.
void lower_priority() {
#if defined(__linux__)
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
}

}  // namespace

void login_pool::run() {
  lower_priority();
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace broker::detail
