// SEND (STOMP 1.2 §SEND): canonical destination, then routed to topic subscribers or a queue;
// and publisher flow control: a SEND that fills a queue (or the session's store backlog) is
// accepted, and reading from the publisher pauses until there is room again [RabbitMQ credit
// flow]; the same when the server-wide budget of held bytes is over [RabbitMQ memory alarm].
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker::detail {

bool stomp_session::allowed(auth::action what, const destination& d) const {
  if (core_.allowed(principal_, what, d)) return true;
  bump(core_.counters.forbidden);
  return false;
}

// Everything a SEND must satisfy before it is routed or held by a transaction.
std::error_code stomp_session::check_send(const stomp::frame& f, destination& d,
                                          std::string& detail) const {
  const auto raw = f.get("destination");
  if (!raw) {
    detail = "SEND needs a destination header";
    return error::missing_destination;
  }
  if (auto ec = parse_destination(*raw, d)) {
    detail = ec == error::unknown_destination_prefix
                 ? "destinations start with one of: " + std::string(known_prefixes())
                 : "not a valid destination: " + std::string(*raw);
    return ec;
  }
  if (d.wildcard) {
    detail = "wildcards (* and #) are for SUBSCRIBE only: " + d.name;
    return error::wildcard_send;
  }
  if (!allowed(auth::action::send, d)) {
    detail = "you may not send to " + d.resolved();
    return error::not_authorized;
  }
  return {};
}

void stomp_session::handle_send(stomp::frame& f) {
  destination d;
  std::string detail;
  if (auto ec = check_send(f, d, detail)) {
    fail(ec, &f, std::move(detail));
    return;
  }
  stomp::frame cause;  // what the ERROR/RECEIPT and the log need once the frame has moved
  cause.command = "SEND";
  cause.add("destination", d.resolved());  // for the log: whose queue
  if (auto receipt = f.get("receipt")) cause.add("receipt", std::string(*receipt));
  // Here, not at SEND time of a transaction: a committed SEND comes back through this path.
  if (core_.cfg.stamp_sender) stamp_sender(f, core_.cfg.sender_header, principal_.name);
  message_ptr m;
  if (auto ec = make_message(std::move(f), d, core_.message_ids.next(), m)) {
    fail(ec, &cause, "expires must be milliseconds since the epoch (0 = never)");
    return;
  }
  const config& cfg = core_.cfg;
  if (core_.stored_first(m)) {  // RECEIPT once stored
    const std::size_t limit = cfg.max_session_held_bytes;
    if (!cfg.flow_control && limit > 0 && held_.bytes() + held_size(*m) > limit) {
      return fail(error::session_held_too_large, &cause,
                  "this session's SENDs awaiting the store would pass "
                  "limits.max_session_held_bytes (" + std::to_string(limit) + " bytes)");
    }
    send_durable(m, std::move(cause));
    if (cfg.flow_control && ((cfg.max_stores_in_flight > 0 &&
                              rare().unsettled_stores.size() >= cfg.max_stores_in_flight) ||
                             (limit > 0 && held_.bytes() >= limit))) {
      hold(pause_store);
    }
    return;
  }
  if (cfg.flow_control && m->target.kind == destination_kind::queue) {
    return send_to_queue(m, cause);
  }
  if (auto ec = core_.route(m)) {
    fail(ec, &cause,
         d.name + " already holds its maximum of waiting messages (queues.max_messages = " +
             std::to_string(cfg.queue_max_messages) + ") or bytes (queues.max_bytes = " +
             std::to_string(cfg.queue_max_bytes) + ")");
    return;
  }
  send_receipt(cause);
}

// Like core_.route for a queue, but the SEND at the bound is accepted and pauses us instead.
void stomp_session::send_to_queue(const message_ptr& m, const stomp::frame& cause) {
  const std::shared_ptr<queue> q = core_.reg.queue_for(m->target.name);
  bool full = false;
  const std::error_code ec = q->enqueue(m, queue_waiter{no_, conn_, weak_from_this()}, full);
  bump(ec ? core_.counters.messages_dropped : core_.counters.messages_published);
  if (ec) {
    fail(ec, &cause, m->target.name + " holds twice its bound of waiting messages (" +
                         std::to_string(q->hard_max()) + ") or bytes (queues.max_bytes, " +
                         std::to_string(q->hard_max_bytes()) +
                         "): the publisher does not slow down");
    return;
  }
  send_receipt(cause);
  if (!full) return;
  if (auto& full = rare().full_queues; std::find(full.begin(), full.end(), q) == full.end()) {
    full.push_back(q);
  }
  hold(pause_queue);
}

// The clustered /queue/ reached its bound with a SEND of ours: as send_to_queue, reading pauses
// until the link sees the shared queue drained to the low watermark. The waiter is registered
// before the link is asked to watch, so a drain seen at once still finds it.
void stomp_session::wait_shared_room(const std::string& queue_name) {
  if (state_ != state::connected) return;
  const std::shared_ptr<queue> q = core_.reg.queue_for(queue_name);
  q->wait_shared(queue_waiter{no_, conn_, weak_from_this()});
  if (auto& full = rare().full_queues; std::find(full.begin(), full.end(), q) == full.end()) {
    full.push_back(q);
  }
  hold(pause_queue);
  core_.cluster->watch_room(queue_name, q->low_watermark());
}

void stomp_session::on_queue_room(const std::shared_ptr<queue>& q) {
  std::erase(rare().full_queues, q);
  if (rare().full_queues.empty()) release(pause_queue);
}

// Resumes at 90% of the bounds, so a publisher is not paused and resumed on every message. The
// bytes count open transactions too, which no store settles: with no store left to wait for,
// reading resumes (the next transaction frame over the bound gets its ERROR).
void stomp_session::on_store_settled() {
  const std::size_t bound = core_.cfg.max_stores_in_flight;
  const std::size_t bytes = core_.cfg.max_session_held_bytes;
  if (rare().unsettled_stores.size() > bound - bound / 10) return;
  if (bytes > 0 && held_.bytes() > bytes - bytes / 10 && !rare().unsettled_stores.empty())
    return;
  release(pause_store);
}

void stomp_session::hold(pause_cause c) {
  if ((paused_ & c) != 0 || state_ != state::connected) return;
  const bool first = paused_ == 0;
  paused_ |= c;
  if (!first) return;
  bump(core_.counters.publisher_pauses);
  core_.counters.paused_publishers.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("session {} ({}): reading paused ({})", id_, remote_,
                c == pause_queue   ? "queue full"
                : c == pause_store ? "store backlog"
                                   : "limits.max_held_bytes");
  if (auto conn = conn_.lock()) conn->pause_reading();
}

void stomp_session::release(pause_cause c) {
  if ((paused_ & c) == 0) return;
  paused_ &= ~static_cast<unsigned>(c);
  if (paused_ != 0) return;
  core_.counters.paused_publishers.fetch_sub(1, std::memory_order_relaxed);
  spdlog::debug("session {} ({}): reading resumed", id_, remote_);
  if (auto conn = conn_.lock()) conn->resume_reading();
}

// The partial frame in parser_ is held for the peer: charged to the server-wide budget. Growing
// past the budget, it pauses reading like a SEND. Grown while the budget was already over (and
// not paused already by a SEND of the same read), it is marked: such frames hold bytes that only
// their peers can free, and many of them could hold the server hostage, so on_budget_check
// refuses a marked one after partial_frame_patience checks; complete SENDs (and the frame that
// crossed the budget: one per crossing) wait as long as it takes.
void stomp_session::charge_partial_frame() {
  const bool reading = state_ == state::awaiting_connect || state_ == state::connected;
  const std::size_t now = reading && parser_ ? parser_->buffered() : 0;
  const std::size_t had = partial_.bytes();
  if (now <= had) {
    partial_.release(had - now);
    if (now == 0) partial_hostage_ = false;
    return;
  }
  const bool was_over = core_.held.over();
  partial_.add(now - had);
  if (!core_.held.over() || (paused_ & pause_budget) != 0) return;
  // Without flow control the bytes that crossed the budget are accepted, as a SEND that does.
  if (core_.cfg.flow_control || was_over) over_budget(nullptr, was_over);
}

// The server-wide budget is over and this session adds to it. As RabbitMQ's memory alarm: with
// flow control the publisher is paused (reading stops after the current read; heart-beats and
// deliveries go on) until the budget is back under 90%; without it, ERROR and close. A session
// that also consumes is paused too (its ACKs wait): other sessions' ACKs and expiry relieve the
// budget, and a partial frame cannot wait forever (charge_partial_frame).
void stomp_session::over_budget(const stomp::frame* cause, bool partial) {
  if (state_ != state::connected) return;  // before CONNECT: pre_connect_limits bound it
  if (!core_.cfg.flow_control) {
    if (!cause) {  // fail logs only frames: say what was refused
      spdlog::warn("session {} ({}): partial frame refused: limits.max_held_bytes is over", id_,
                   remote_);
    }
    return fail(error::server_memory_full, cause,
                "the server holds limits.max_held_bytes (" + std::to_string(core_.held.limit()) +
                    " bytes) of messages; send again later",
                close_reason::server_error);
  }
  if ((paused_ & pause_budget) == 0) {
    partial_hostage_ = partial;
    budget_ticks_ = 0;
    bump(core_.counters.budget_pauses);
    core_.budget_paused.add(no_, budget_waiters::entry{conn_, weak_from_this()});
  }
  hold(pause_budget);
}

void stomp_session::on_budget_check() {
  if ((paused_ & pause_budget) == 0 || state_ != state::connected) return;
  if (core_.held.relieved()) {
    core_.budget_paused.remove(no_);
    partial_hostage_ = false;
    return release(pause_budget);
  }
  if (partial_hostage_ && partial_.bytes() > 0 && ++budget_ticks_ >= partial_frame_patience) {
    spdlog::warn("session {} ({}): partial frame of {} bytes refused after {} s paused: "
                 "limits.max_held_bytes is over",
                 id_, remote_, partial_.bytes(), budget_ticks_);
    fail(error::server_memory_full, nullptr,
         "a partial frame waited too long for room under limits.max_held_bytes (" +
             std::to_string(core_.held.limit()) + " bytes)",
         close_reason::server_error);
  }
}

// Closing: leaves the queues' waiting lists; the connection's reading ends with it.
void stomp_session::end_flow_control() {
  if (rare_) {
    for (const auto& q : rare_->full_queues) q->forget_waiter(no_);
    rare_->full_queues.clear();
  }
  core_.budget_paused.remove(no_);
  if (paused_ != 0) core_.counters.paused_publishers.fetch_sub(1, std::memory_order_relaxed);
  paused_ = 0;
}

}  // namespace broker::detail
