#include "broker/detail/stomp_session.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "broker/detail/broker_core.hpp"
#include "broker/printable.hpp"
#include "broker/error.hpp"
#include "stomp/error.hpp"
#include "stomp/serializer.hpp"

namespace broker::detail {
namespace {


std::string frame_snippet(const stomp::frame& f) {
  std::string s = f.command;
  for (const stomp::header& h : f.headers) s += '\n' + h.name + ':' + h.value;
  return printable(s);
}

}  // namespace

stomp_session::stomp_session(broker_core& core, const std::shared_ptr<connection>& conn)
    : core_(core),
      conn_(conn),
      remote_(conn->peer().remote),
      no_(core.next_session_no.fetch_add(1, std::memory_order_relaxed) + 1),
      held_(core.held, 0),
      partial_(core.held, 0),
      send_bucket_(core.cfg.send_rate, core.cfg.send_burst) {
  // Two buckets, not the 13 libstdc++ makes on the first insert: most sessions hold one or two
  // subscriptions, and an idle one should not carry 100 bytes of empty buckets.
  by_handle_.reserve(1);
  bump(core_.counters.sessions_opened);
  core_.counters.sessions.fetch_add(1, std::memory_order_relaxed);
}

session_extras& stomp_session::rare() {
  if (!rare_) rare_ = std::make_unique<session_extras>();
  return *rare_;
}

const session_extras& stomp_session::rare() const {
  static const session_extras none;
  return rare_ ? *rare_ : none;
}

// A transport that never called on_closed still must not lose queue messages.
stomp_session::~stomp_session() {
  cleanup();
  core_.counters.sessions.fetch_sub(1, std::memory_order_relaxed);
}

void stomp_session::on_bytes(std::string_view bytes) {
  if (awaiting_login()) {  // the read in progress when reading paused: kept for after CONNECTED
    // A transport without flow control (SockJS) keeps handing bytes over: at most one frame's
    // worth waits for the login.
    if (rare().unread.size() + bytes.size() > core_.cfg.frame_limits.max_frame) {
      fail(stomp::error::frame_too_large, nullptr,
           "too many bytes sent before the CONNECT was answered", close_reason::frame_too_large);
      return;
    }
    rare().unread.append(bytes);
    return;
  }
  parse_frames(bytes);
  charge_partial_frame();
  if (parser_ && parser_->idle()) parser_.reset();  // nothing partial: made again by the next read
}

stomp::parser& stomp_session::parser() {
  if (!parser_) {
    const bool connected = state_ != state::awaiting_connect;
    parser_ = std::make_unique<stomp::parser>(connected ? core_.cfg.frame_limits
                                                        : core_.cfg.pre_connect_limits);
    parser_->set_version(version_);
  }
  return *parser_;
}

void stomp_session::parse_frames(std::string_view bytes) {
  std::string_view in = bytes;
  while (state_ == state::awaiting_connect || state_ == state::connected) {
    stomp::frame f;
    const stomp::parse_status status = parser().feed(in, f);
    if (status == stomp::parse_status::need_more) return;
    if (status == stomp::parse_status::error) {
      const std::error_code ec = parser_->error();
      const std::size_t at = bytes.size() - in.size();
      const std::string_view near = bytes.substr(at >= 32 ? at - 32 : 0);
      spdlog::warn("session {} ({}): {} near \"{}\"", id_, remote_, ec.message(),
                   printable(near));
      fail(ec, nullptr, "the frame could not be parsed: " + ec.message(),
           stomp::is_limit_error(ec) ? close_reason::frame_too_large
                                     : close_reason::protocol_error);
      return;
    }
    partial_.reset();  // whole now: charged from here on by whoever keeps it (not twice)
    partial_hostage_ = false;
    on_frame(f);
    if (awaiting_login()) {  // nothing after a CONNECT runs before its answer
      rare().unread.append(in);
      return;
    }
  }
}

void stomp_session::on_frame(stomp::frame& f) {
  core_.counters.frame_in(f.command);
  const bool is_connect = f.command == "CONNECT" || f.command == "STOMP";
  if (state_ == state::awaiting_connect) {
    if (is_connect) {
      handle_connect(f);
    } else {
      fail(error::not_connected, &f, "send CONNECT (or STOMP) first, got " + f.command);
    }
    return;
  }
  if (is_connect) {
    fail(error::already_connected, &f, "this session is already connected");
    return;
  }
  if (f.command == "SEND" && !within_send_rate(f)) return;  // before transactions buffer it
  const bool is_send = f.command == "SEND";
  // Only SENDs that leave bytes held count against the budget: a topic message is gone once
  // routed (what waits to be written is the transport's to charge), so live traffic flows on.
  const bool holds = is_send && (f.has("transaction") ||
                                 !f.get("destination").value_or("").starts_with("/topic/"));
  if (holds && core_.held.over() && !core_.cfg.flow_control) {
    return over_budget(&f, false);  // refused before it is held
  }
  const bool in_transaction =
      (is_send || f.command == "ACK" || f.command == "NACK") && buffer_in_transaction(f);
  if (!in_transaction) on_connected_frame(f);
  if (holds && core_.held.over() && core_.cfg.flow_control) over_budget(nullptr, false);
}

// Over send_rate a session is slowed by default: this SEND goes on, and reading pauses until
// the bucket has refilled (the frames of the read in progress go into the bucket's debt, which
// lengthens the pause), so the publisher gets the rate, not an ERROR.
bool stomp_session::within_send_rate(const stomp::frame& f) {
  if (!core_.cfg.send_rate_slows) {
    if (send_bucket_.try_take()) return true;
    bump(core_.counters.send_rate_exceeded);
    fail(error::send_rate_exceeded, &f,
         "SENDs arrive faster than this server's send_rate and send_burst allow");
    return false;
  }
  const auto wait = send_bucket_.take_on_credit();
  if (wait.count() > 0) {
    if (auto conn = conn_.lock()) conn->pause_reading_for(wait);
  }
  return true;
}

void stomp_session::on_connected_frame(stomp::frame& f) {
  const std::string& c = f.command;
  if (c == "SEND") return handle_send(f);
  if (c == "SUBSCRIBE") return handle_subscribe(f);
  if (c == "UNSUBSCRIBE") return handle_unsubscribe(f);
  if (c == "ACK") return handle_ack(f, true);
  if (c == "NACK") return handle_ack(f, false);
  if (c == "BEGIN") return handle_begin(f);
  if (c == "COMMIT") return handle_commit(f);
  if (c == "ABORT") return handle_abort(f);
  if (c == "DISCONNECT") return handle_disconnect(f);
  fail(error::unexpected_command, &f, c + " is not a client command");
}

void stomp_session::send_frame(const stomp::frame& f) {
  if (auto conn = conn_.lock()) {
    outgoing out;
    stomp::serialize(f, version_, out.head);
    if (f.command == "CONNECTED") core_.counters.frame_out(server_command::connected);
    if (f.command == "RECEIPT") core_.counters.frame_out(server_command::receipt);
    if (f.command == "ERROR") core_.counters.frame_out(server_command::error);
    out.text = stomp::is_valid_utf8(out.head);
    conn->send(std::move(out));
  }
}

void stomp_session::send_receipt(const stomp::frame& cause, std::vector<stomp::header> extra) {
  if (auto receipt = cause.get("receipt")) {
    stomp::frame r;
    r.command = "RECEIPT";
    r.add("receipt-id", std::string(*receipt));
    for (stomp::header& h : extra) r.headers.push_back(std::move(h));
    send_frame(r);
  }
}

// ERROR, then close: every protocol violation ends the session (STOMP 1.2 §ERROR).
void stomp_session::fail(std::error_code ec, const stomp::frame* cause, std::string detail,
                         close_reason why, std::vector<stomp::header> extra) {
  if (state_ == state::closing || state_ == state::closed) return;
  if (cause) {
    // `detail` often quotes the peer's value (a destination, a transaction name).
    spdlog::warn("session {} ({}): {}: {} in \"{}\"", id_, remote_, ec.message(),
                 printable(detail, 200),
                 frame_snippet(*cause));
  }
  stomp::frame e;
  e.command = "ERROR";
  e.add("message", ec.message());
  if (cause) {
    if (auto receipt = cause->get("receipt")) e.add("receipt-id", std::string(*receipt));
  }
  for (stomp::header& h : extra) e.headers.push_back(std::move(h));
  e.add("content-type", "text/plain");
  e.body = std::move(detail);
  send_frame(e);
  state_ = state::closing;
  drop_held();  // now: the close may take close_ms
  if (auto conn = conn_.lock()) conn->close(why);
}

// What the session holds for its peer and will never use once closing: its open transactions
// and its partial frame. Unstored SENDs stay charged until the store answers (or cleanup).
void stomp_session::drop_held() {
  if (rare_) {
    for (const auto& [id, tx] : rare_->transactions) held_.release(tx.bytes);
    rare_->transactions.clear();
  }
  partial_.reset();
  partial_hostage_ = false;
}

void stomp_session::on_slow_consumer() {
  fail(error::slow_consumer, nullptr, "the connection could not keep up with its messages",
       close_reason::slow_consumer);
}

// The id and user stay after the session starts closing: a cut is recorded with them.
session_summary stomp_session::summary() const {
  return {id_, principal_.name, subscriptions_.size(), state_ == state::connected};
}

// shutdown (WebSocket 1001 "going away"): the server ends this session on purpose, not for
// anything the peer did; the ERROR frame says why.
void stomp_session::close_by_admin() {
  fail(error::closed_by_admin, nullptr, "an administrator closed this connection",
       close_reason::shutdown);
}

void stomp_session::on_closed(close_reason why) {
  if (state_ == state::closed) return;
  state_ = state::closed;
  core_.counters.closed(why);
  cleanup();
}

// Subscriptions go (queue consumers requeue their unacked messages, redelivered), open
// transactions are dropped. Idempotent: on_closed and the destructor may both call it.
void stomp_session::cleanup() {
  end_flow_control();
  release_unwritten();
  core_.reg.remove_session(no_);
  core_.expiring.remove(no_);
  if (counted_user_) core_.user_sessions.leave(principal_.name);
  counted_user_ = false;
  for (const auto& [id, sub] : subscriptions_) {
    if (!sub.user_key.empty()) core_.users.unsubscribe(sub.user_key, sub.handle);
  }
  core_.counters.subscriptions.fetch_sub(static_cast<std::int64_t>(subscriptions_.size()),
                                         std::memory_order_relaxed);
  subscriptions_.clear();
  by_handle_.clear();
  if (rare_) rare_->pending.clear();
  drop_held();
  held_.reset();  // unstored SENDs too: on_stored finds nothing left to release
}

subscription* stomp_session::find_by_handle(std::uint64_t handle) {
  auto h = by_handle_.find(handle);
  if (h == by_handle_.end()) return nullptr;
  auto s = subscriptions_.find(h->second);
  return s == subscriptions_.end() ? nullptr : &s->second;
}

// Drops one subscription from wherever it is registered (its unacked messages are the caller's).
void stomp_session::forget(const subscription& sub) {
  if (sub.user_key.empty()) {
    core_.reg.unsubscribe(no_, sub.handle);
  } else {
    core_.users.unsubscribe(sub.user_key, sub.handle);
  }
  by_handle_.erase(sub.handle);
  core_.counters.subscriptions.fetch_sub(1, std::memory_order_relaxed);
}

void stomp_session::deliver(std::uint64_t handle, const message_ptr& m) {
  if (state_ != state::connected) return;
  const subscription* sub = find_by_handle(handle);
  if (!sub) return;
  // Most messages never expire: no clock read per delivery for them.
  if (m->expires && m->expired(std::chrono::system_clock::now())) {
    bump(core_.counters.messages_expired);
    return;
  }
  if (sub->hold) return hold_live(*sub, m);  // its recovery is being read (a cluster)
  send_message(*sub, m, 0);
}

void stomp_session::deliver_queued(const std::shared_ptr<queue>& q, std::uint64_t handle,
                                   std::uint64_t delivery, const message_ptr& m) {
  // Not connected any more: on_closed removes the consumer and requeues what it held.
  if (state_ != state::connected) return;
  const subscription* sub = find_by_handle(handle);
  // Unsubscribed since: removing the consumer already requeued this delivery.
  if (!sub || sub->q != q) return;
  if (m->expired(std::chrono::system_clock::now())) {
    bump(core_.counters.messages_expired);
    q->settle(handle, {delivery}, false);
    return;
  }
  // Read before sending: a send may end the session and clear subscriptions_.
  const bool automatic = sub->ack == ack_mode::automatic;
  send_message(*sub, m, delivery);
  if (automatic) q->settle(handle, {delivery}, false);  // removed once handed to the connection
}

std::size_t stomp_session::send_message(const subscription& sub, const message_ptr& m,
                                        std::uint64_t delivery, std::uint64_t user_seq,
                                        std::uint64_t mark) {
  auto conn = conn_.lock();
  if (!conn) return 0;
  std::string ack;
  if (sub.ack != ack_mode::automatic) {
    const std::uint64_t seq = ++next_ack_;
    rare().pending.emplace(seq, pending_ack{sub.id, m->id, delivery, user_seq});
    ack = std::to_string(seq);
  }
  core_.counters.frame_out(server_command::message);
  bump(core_.counters.messages_delivered);
  outgoing out = encode(m, sub.id, ack, version_);
  out.written_mark = mark;
  const std::size_t bytes = out.size();
  conn->send(std::move(out));
  return bytes;
}

}  // namespace broker::detail
