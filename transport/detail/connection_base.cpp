#include "transport/detail/connection_base.hpp"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "transport/detail/fail.hpp"
#include "transport/detail/server_state.hpp"

namespace transport::detail {

namespace net = boost::asio;
using broker::close_reason;

namespace {

std::uint64_t next_connection_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The connections whose drain a hold_drains on this thread holds back; null when none is open.
thread_local std::vector<std::shared_ptr<connection_base>>* held_drains = nullptr;

}  // namespace

hold_drains::hold_drains() : outermost_(held_drains == nullptr) {
  thread_local std::vector<std::shared_ptr<connection_base>> held;
  if (outermost_) held_drains = &held;
}

hold_drains::~hold_drains() {
  if (!outermost_) return;
  auto& held = *held_drains;
  held_drains = nullptr;
  for (const auto& c : held) c->post_held_drain();
  held.clear();
}

connection_base::connection_base(net::any_io_executor strand, std::shared_ptr<server_state> server,
                                 std::string transport_name, std::string remote)
    : shared_timer::client(&connection_base::on_expired),
      strand_(std::move(strand)),
      server_(std::move(server)),
      id_(next_connection_id()),
      opened_(clock::now()) {
  peer_.transport = std::move(transport_name);
  peer_.remote = std::move(remote);
}

// The shared timer may be about to call expired() on another thread: cancel waits for it.
connection_base::~connection_base() { server_->deadlines->cancel(*this); }

void connection_base::start() {
  server_->counters.accepted.fetch_add(1, std::memory_order_relaxed);
  if (!server_->add(shared_from_this())) {
    net::post(strand_, [self = shared_from_this()] { self->cut(); });
    return;
  }
  net::dispatch(strand_, [self = shared_from_this()] {
    self->arm_timer();
    self->run();
  });
}

void connection_base::stop() {
  net::post(strand_, [self = shared_from_this()] { self->close(close_reason::shutdown); });
}

void connection_base::describe(std::function<void(transport::connection_summary)> done) {
  net::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    transport::connection_summary s;
    s.id = self->id_;
    s.transport = self->peer_.transport;
    s.remote = self->peer_.remote;
    s.age = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - self->opened_);
    s.pending_bytes = self->pending_bytes_;
    s.heartbeat_send = self->send_every_;
    s.heartbeat_expect = self->expect_within_;
    if (self->session_ && self->phase_ == phase::open) {
      auto view = self->session_->summary();
      s.session = std::move(view.id);
      s.user = std::move(view.user);
      s.subscriptions = view.subscriptions;
      s.connected = view.connected;
    }
    done(std::move(s));
  });
}

void connection_base::close_by_admin() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->session_ && self->phase_ == phase::open) self->session_->close_by_admin();
    self->close(close_reason::shutdown);  // ignored when the session already closed it
  });
}

void connection_base::post(std::function<void()> fn) {
  post_held_drain();  // deliveries held back keep their place before fn
  net::post(strand_, [weak = weak_from_this(), fn = std::move(fn)] {
    auto self = weak.lock();
    if (self && self->phase_ != phase::closed) fn();
  });
}

bool connection_base::deliver_later(std::uint64_t handle, const broker::message_ptr& m) {
  // Only the first delivery of a burst posts: the drain takes every one queued until it runs.
  if (inbox_.push(handle, m) == delivery_inbox::pushed::first) {
    if (held_drains == nullptr) {
      post_drain();
    } else {
      drain_held_.store(true, std::memory_order_relaxed);
      held_drains->push_back(shared_from_this());
    }
  }
  return true;  // refused (closed) counts as handled: a closed connection drops deliveries
}

void connection_base::post_drain() {
  net::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
}

// Posts the drain a hold_drains held back, unless someone already did (the hold's end, or a
// post() that must come after the held deliveries). The load first: every post() comes here,
// and almost none finds a held drain, so most skip the read-modify-write.
void connection_base::post_held_drain() {
  if (drain_held_.load(std::memory_order_relaxed) &&
      drain_held_.exchange(false, std::memory_order_relaxed))
    post_drain();
}

// Hands the whole batch to the session in order; each send() applies the pending-bytes cap and
// the slow-consumer policy as it goes, so the inbox is bounded by the same accounting as the
// write queue (it only holds what arrived since the drain was posted).
void connection_base::drain_inbox() {
  inbox_.take(draining_);
  const auto session = session_;  // finish() may release session_ while the batch is delivered
  gathering_ = true;  // one write for the batch, not one for its first frame and one for the rest
  for (const auto& d : draining_) {
    if (phase_ == phase::closed || !session) break;
    session->deliver(d.handle, d.message);
  }
  gathering_ = false;
  draining_.clear();
  if (phase_ == phase::open && in_flight_ == 0 && !queue_.empty()) {
    last_write_ = clock::now();
    start_write();
  }
  // A burst's capacity is kept for the next one; a large one is not held by an idle connection.
  if (draining_.capacity() > 64) draining_ = {};
}

void connection_base::open_session() {
  phase_ = phase::open;
  last_read_ = last_write_ = clock::now();
  server_->counters.open.fetch_add(1, std::memory_order_relaxed);
  count_by_transport(1);
  spdlog::info("open {} {}{}{}", peer_.remote, peer_.transport,
               peer_.subprotocol.empty() ? "" : " ", peer_.subprotocol);
  session_ = server_->broker.open_session(shared_from_this());
  arm_timer();
}

void connection_base::count_by_transport(std::int64_t delta) noexcept {
  const auto i = transport_index(peer_.transport);
  if (i < server_->counters.open_by_transport.size())
    server_->counters.open_by_transport[i].fetch_add(delta, std::memory_order_relaxed);
}

void connection_base::deliver_read(std::string_view bytes) {
  if (phase_ != phase::open || !session_) return;
  last_read_ = clock::now();
  session_->on_bytes(bytes);
}

bool connection_base::may_read() noexcept {
  if (phase_ != phase::open) return false;
  if (pauses_ == 0) return true;
  parked_ = shared_from_this();
  return false;
}

// Flow control: the read in progress (if any) still completes and is parsed; the next is not
// started. Writes and heart-beats we send go on; the peer's silence is not held against it.
void connection_base::pause_reading() {
  if (phase_ != phase::open) return;
  if (pauses_++ == 0) arm_timer();
}

void connection_base::resume_reading() {
  if (pauses_ == 0) return;
  if (--pauses_ > 0) return;
  last_read_ = clock::now();  // the peer's heart-beats waited in its socket: not its fault
  if (phase_ != phase::open) return;
  arm_timer();
  auto self = std::move(parked_);
  if (!self) return;  // the loop is still in a read: it goes on
  // Posted: resume_reading runs inside the session, which the read must not re-enter.
  net::post(strand_, [self = std::move(self)] { self->restart_read(); });
}

// The end of a timed pause is one more deadline of the connection's one timer (on_timer).
void connection_base::pause_reading_for(std::chrono::nanoseconds d) {
  if (phase_ != phase::open) return;
  const auto until = clock::now() + std::chrono::duration_cast<clock::duration>(d);
  if (timed_pause_) {  // on_timer re-arms for the later deadline when the earlier one fires
    paused_until_ = std::max(paused_until_, until);
    return;
  }
  timed_pause_ = true;
  paused_until_ = until;
  pause_reading();
  arm_timer();
}

void connection_base::send(broker::outgoing frame) {
  if (phase_ != phase::open || slow_pending_) return;
  pending_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  // Start the write first: the cap measures what waits behind the frames in flight, so one
  // frame of the accepted maximum always goes to a reader that reads, whatever the cap. (While
  // an inbox batch is delivered the write starts after it, with the whole batch gathered; the
  // cap then counts the front frame as the one going, see waiting_bytes.)
  if (in_flight_ == 0 && !gathering_) {
    last_write_ = clock::now();
    start_write();
  }
  if (!slow_ && pending_bytes_ > max_pending_bytes() && waiting_bytes() > max_pending_bytes())
    apply_cap();
}

// Bytes queued behind the frames being written. A transport that cannot write yet (a SockJS
// session between polls) has nothing in flight: its front frame is the next to go, and alone
// it always fits. Sums only the few frames in flight, and only once pending_bytes_ is over the
// cap.
std::size_t connection_base::waiting_bytes() const noexcept {
  const std::size_t going = std::min(std::max<std::size_t>(in_flight_, 1), queue_.size());
  std::size_t going_bytes = 0;
  for (std::size_t i = 0; i < going; ++i) going_bytes += queue_[i].size();
  return pending_bytes_ - going_bytes;
}

void connection_base::apply_cap() {
  const auto cap = max_pending_bytes();
  if (server_->config.slow_consumer == slow_consumer_policy::drop_oldest) {
    // Frames already handed to the socket cannot be taken back (nor the one next to go):
    // start after them.
    const std::size_t going = std::max<std::size_t>(in_flight_, 1);
    const std::size_t going_bytes = pending_bytes_ - waiting_bytes();
    const std::uint64_t dropped = queue_.erase_if_from(
        going,
        [&](const broker::outgoing& f) {
          if (!f.droppable) return false;
          pending_bytes_ -= f.size();
          return true;
        },
        [&] { return pending_bytes_ - going_bytes > cap; });
    if (dropped > 0) {
      server_->counters.dropped_frames.fetch_add(dropped, std::memory_order_relaxed);
      if (server_->may_log_slow_consumer())
        spdlog::warn("{} slow consumer: dropped {} frames", peer_.remote, dropped);
    }
    if (pending_bytes_ - going_bytes <= cap) return;
  }
  disconnect_slow();
}

std::size_t connection_base::max_pending_bytes() const noexcept {
  return server_->config.max_pending_bytes;
}

void connection_base::disconnect_slow() {
  slow_ = slow_pending_ = true;
  server_->counters.slow_consumers.fetch_add(1, std::memory_order_relaxed);
  if (server_->may_log_slow_consumer())
    spdlog::warn("{} slow consumer: {} bytes pending, disconnecting", peer_.remote, pending_bytes_);
  // Nothing queued behind the write in progress will ever matter now: make room for the ERROR.
  while (queue_.size() > in_flight_) {
    pending_bytes_ -= queue_.back().size();
    queue_.pop_back();
  }
  // Posted, not called: send() is often running inside the session, which must not be
  // re-entered.
  net::post(strand_, [self = shared_from_this()] {
    self->slow_pending_ = false;
    if (self->phase_ == phase::open && self->session_) self->session_->on_slow_consumer();
  });
}

void connection_base::on_write_done(const boost::system::error_code& ec) {
  std::uint64_t written = 0;  // the highest mark among the frames just written
  for (; in_flight_ > 0 && !queue_.empty(); --in_flight_) {
    pending_bytes_ -= queue_.front().size();
    written = std::max(written, queue_.front().written_mark);
    queue_.pop_front();
  }
  in_flight_ = 0;
  if (phase_ == phase::closed) return;
  if (ec) {
    fail(ec, "write", peer_.remote);
    finish(phase_ == phase::open ? close_reason::peer_gone : reason_);
    return;
  }
  // The session may send from here (its next durable message): that starts the next write
  // itself, so only an idle queue is started below.
  if (written != 0 && session_) session_->on_written(written);
  if (phase_ == phase::closed || in_flight_ > 0) return;
  if (!queue_.empty()) {
    last_write_ = clock::now();
    start_write();
  } else if (phase_ == phase::closing) {
    phase_ = phase::shutting;
    start_shutdown();
  }
}

void connection_base::discard_unsent() noexcept {
  queue_.erase_if_from(
      in_flight_,
      [&](const broker::outgoing& f) {
        pending_bytes_ -= f.size();
        return true;
      },
      [] { return true; });
}

void connection_base::close(close_reason why) {
  if (phase_ == phase::handshaking) {
    reason_ = why;
    abort_handshake();
    finish(why);
    return;
  }
  if (phase_ != phase::open) return;
  phase_ = phase::closing;
  reason_ = why;
  close_deadline_ = clock::now() + server_->config.close_timeout;
  arm_timer();
  if (in_flight_ == 0) {
    if (queue_.empty()) {
      phase_ = phase::shutting;
      start_shutdown();
    } else {
      start_write();
    }
  }
}

void connection_base::connected(std::chrono::milliseconds send_every,
                                std::chrono::milliseconds expect_within) {
  connected_ = true;
  send_every_ = send_every;
  expect_within_ = expect_within;
  last_read_ = last_write_ = clock::now();
  arm_timer();
}

void connection_base::on_read_error(const boost::system::error_code& ec, close_reason why) {
  // While closing, the read completes as part of our own close handshake: that path finishes.
  if (phase_ != phase::open && phase_ != phase::handshaking) return;
  fail(ec, "read", peer_.remote);
  finish(why);
}

void connection_base::handshake_failed(const boost::system::error_code& ec, std::string_view what) {
  fail(ec, what, peer_.remote);
  finish(close_reason::peer_gone);
}

void connection_base::finish(close_reason why) {
  if (phase_ == phase::closed) return;
  const auto keep_alive_to_the_end = std::move(parked_);  // may be the last reference
  const bool had_session = phase_ != phase::handshaking;
  phase_ = phase::closed;
  reason_ = why;
  server_->deadlines->cancel(*this);
  cut();
  queue_.clear();
  inbox_.close();
  pending_bytes_ = 0;
  ticket_.release();
  server_->remove(this);
  if (!had_session) return;
  server_->counters.open.fetch_sub(1, std::memory_order_relaxed);
  count_by_transport(-1);
  spdlog::info("close {} {}{}{} {}", peer_.remote, peer_.transport,
               peer_.subprotocol.empty() ? "" : " ", peer_.subprotocol, broker::to_string(why));
  if (why == close_reason::slow_consumer || why == close_reason::heartbeat_timeout) {
    server_->record_cut({std::chrono::system_clock::now(), peer_.remote,
                         session_ ? session_->summary().user : std::string(), peer_.transport,
                         why});
  }
  if (auto s = std::move(session_)) s->on_closed(why);
}

connection_base::clock::time_point connection_base::next_deadline() const noexcept {
  switch (phase_) {
    case phase::handshaking:
      return opened_ + std::min(server_->config.handshake_timeout, server_->config.connect_timeout);
    case phase::open: {
      if (!connected_) return opened_ + server_->config.connect_timeout;
      auto next = clock::time_point::max();
      if (expect_within_.count() > 0 && pauses_ == 0)
        next = std::min(next, last_read_ + expect_within_);
      if (send_every_.count() > 0) next = std::min(next, last_write_ + send_every_);
      if (timed_pause_) next = std::min(next, paused_until_);
      return next;
    }
    case phase::closing:
    case phase::shutting:
      return close_deadline_;
    case phase::closed:
      break;
  }
  return clock::time_point::max();
}

// One deadline per connection, in the server's shared timer (idle connections must stay cheap:
// no Asio timer, no pending wait of their own): it is set to the nearest deadline, and
// reads/writes only move timestamps; on_timer re-checks and re-arms.
void connection_base::arm_timer() {
  const auto next = next_deadline();
  if (next == clock::time_point::max()) {
    server_->deadlines->cancel(*this);
    return;
  }
  server_->deadlines->schedule(*this, next);
}

// Under the shared timer's lock, on any thread. A connection being destroyed (its last owner
// gone) cannot be locked: its destructor is waiting to cancel this deadline.
void connection_base::on_expired(shared_timer::client& c) noexcept {
  auto& conn = static_cast<connection_base&>(c);
  auto self = conn.weak_from_this().lock();
  if (!self) return;
  net::post(conn.strand_, [self = std::move(self)] {
    if (self->phase_ != phase::closed) self->on_timer();
  });
}

void connection_base::on_timer() {
  const auto now = clock::now();
  if (now < next_deadline()) return arm_timer();
  switch (phase_) {
    case phase::handshaking:
      spdlog::debug("{} handshake timeout", peer_.remote);
      return finish(close_reason::connect_timeout);
    case phase::closing:
    case phase::shutting:
      return finish(reason_);  // the peer does not drain or answer: cut
    case phase::closed:
      return;
    case phase::open:
      break;
  }
  if (timed_pause_ && now >= paused_until_) {
    timed_pause_ = false;
    resume_reading();  // re-arms the timer; a parked read loop restarts, posted
  }
  if (!connected_) return close(close_reason::connect_timeout);
  if (expect_within_.count() > 0 && pauses_ == 0 && now - last_read_ >= expect_within_)
    return close(close_reason::heartbeat_timeout);
  if (send_every_.count() > 0 && now - last_write_ >= send_every_) {
    if (in_flight_ == 0) send(broker::outgoing{"\n", nullptr, true, false});
    last_write_ = now;  // a write in progress is as good as a heart-beat
  }
  arm_timer();
}

}  // namespace transport::detail
