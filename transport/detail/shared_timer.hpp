#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/set.hpp>

namespace transport::detail {

/// One Asio timer for the deadlines of every connection of a server (CONNECT timeout,
/// heart-beats, close timeout). An idle connection then holds no timer, no pending wait and no
/// handler: only its place in an intrusive tree (a few pointers, no allocation). Deadlines are
/// kept in order; the one timer waits for the earliest, rounded up to `resolution` so that
/// deadlines close together fire in one wake-up. A deadline never fires early, at most
/// `resolution` late. Thread-safe: one mutex, taken only to (re)schedule and to fire.
class shared_timer : public std::enable_shared_from_this<shared_timer> {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr clock::duration resolution = std::chrono::milliseconds(5);

  /// A place in the timer: a member (or base) of whoever has a deadline. `expired` is called
  /// with the timer's mutex held, on any thread of the io_context, once the deadline has
  /// passed: it should post its work and not call back into the timer. A plain function, not
  /// a virtual: it may run while its owner's destructor waits in cancel(), when a virtual call
  /// would race with the destructors rewriting the vtable pointer.
  class client : public boost::intrusive::set_base_hook<
                     boost::intrusive::link_mode<boost::intrusive::normal_link>,
                     boost::intrusive::optimize_size<true>> {
   public:
    using expired_fn = void (*)(client&) noexcept;
    explicit client(expired_fn expired) noexcept : expired_(expired) {}
    client(const client&) = delete;
    client& operator=(const client&) = delete;

   private:
    friend class shared_timer;
    expired_fn expired_;
    clock::time_point due_{};
    bool scheduled_ = false;
  };

  explicit shared_timer(boost::asio::io_context& ioc);

  /// Calls c.expired() once `when` has passed, replacing any deadline c had.
  void schedule(client& c, clock::time_point when);
  /// Forgets c's deadline, if any. After it returns, expired() is not running nor will run.
  void cancel(client& c);

  /// Deadlines waiting (tests, metrics).
  std::size_t size();

 private:
  struct by_due {
    bool operator()(const client& a, const client& b) const noexcept { return a.due_ < b.due_; }
  };
  using tree = boost::intrusive::multiset<client, boost::intrusive::compare<by_due>,
                                          boost::intrusive::constant_time_size<true>>;

  void arm_locked();
  void on_wait(const boost::system::error_code& ec);

  std::mutex mu_;
  tree due_;
  boost::asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();  // max: not armed
};

}  // namespace transport::detail
