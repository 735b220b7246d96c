#include "transport/detail/shared_timer.hpp"

#include <boost/asio/error.hpp>

namespace transport::detail {

namespace {

// The deadline rounded up to a multiple of the resolution: deadlines close together share a
// wake-up, and none fires before its time.
shared_timer::clock::time_point round_up(shared_timer::clock::time_point t) noexcept {
  const auto r = shared_timer::resolution.count();
  const auto ticks = t.time_since_epoch().count();
  const auto rounded = ticks >= 0 ? (ticks + r - 1) / r * r : ticks / r * r;
  return shared_timer::clock::time_point(shared_timer::clock::duration(rounded));
}

}  // namespace

shared_timer::shared_timer(boost::asio::io_context& ioc) : timer_(ioc) {}

void shared_timer::schedule(client& c, clock::time_point when) {
  std::lock_guard lock(mu_);
  if (c.scheduled_) due_.erase(due_.iterator_to(c));
  c.due_ = when;
  c.scheduled_ = true;
  due_.insert(c);
  if (round_up(when) < armed_for_) arm_locked();
}

void shared_timer::cancel(client& c) {
  std::lock_guard lock(mu_);
  if (!c.scheduled_) return;
  due_.erase(due_.iterator_to(c));
  c.scheduled_ = false;
  // While other deadlines wait the timer stays armed (waking once for nothing is cheaper than
  // re-arming on every cancel). With none left it stops: a pending wait is work that would keep
  // io_context::run from returning once the last connection is gone.
  if (due_.empty() && armed_for_ != clock::time_point::max()) {
    armed_for_ = clock::time_point::max();
    timer_.cancel();
  }
}

std::size_t shared_timer::size() {
  std::lock_guard lock(mu_);
  return due_.size();
}

void shared_timer::arm_locked() {
  if (due_.empty()) {
    armed_for_ = clock::time_point::max();
    return;
  }
  armed_for_ = round_up(due_.begin()->due_);
  timer_.expires_at(armed_for_);  // cancels the wait for a later deadline
  // Weak: the timer may be destroyed (server gone) while a completed wait is queued.
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;  // re-armed or cancelled
    if (auto self = weak.lock()) self->on_wait(ec);
  });
}

void shared_timer::on_wait(const boost::system::error_code&) {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  while (!due_.empty() && due_.begin()->due_ <= now) {
    client& c = *due_.begin();
    due_.erase(due_.begin());
    c.scheduled_ = false;
    c.expired_(c);
  }
  // A wait that completed before a re-arm for an earlier deadline arrives here too: re-arming
  // from the tree is right whichever wait this was.
  arm_locked();
}

}  // namespace transport::detail
