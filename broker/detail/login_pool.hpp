#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace broker::detail {

/// The broker's login threads: password checks (PBKDF2, 150-260 ms of a core each) run here, so
/// no I/O thread waits on one; the result goes back to the session's strand by
/// connection::post. Besides the store's writer these are the only threads the broker owns.
/// They run at nice +10 (below the I/O threads), start with the first job (a broker without a
/// users file never starts them) and are joined by the destructor; jobs not started by then are
/// dropped. Thread-safe.
class login_pool {
 public:
  /// `threads` workers (at least 1) and at most `max_waiting` jobs queued (at least 1).
  login_pool(std::size_t threads, std::size_t max_waiting);
  ~login_pool();  ///< stop()
  login_pool(const login_pool&) = delete;
  login_pool& operator=(const login_pool&) = delete;

  /// Queues `job` for a worker. False (the job is dropped) when `max_waiting` jobs already wait:
  /// the caller answers "server busy". Never blocks on a job.
  bool try_submit(std::function<void()> job);

  /// Drops the jobs not started, waits for those running, joins the threads; later submits
  /// are refused. Idempotent. Not from a job.
  void stop();

  /// Jobs queued and not yet started, for tests and metrics.
  std::size_t waiting() const;

 private:
  void run();

  std::size_t threads_;
  std::size_t max_waiting_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  ///< started lazily under mutex_
};

}  // namespace broker::detail
