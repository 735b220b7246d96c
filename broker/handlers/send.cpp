// SEND (STOMP 1.2 §SEND): canonical destination, then routed to topic subscribers or a queue;
// and publisher flow control: a SEND that fills a queue (or the session's store backlog) is
// accepted, and reading from the publisher pauses until there is room again [RabbitMQ credit
// flow].
#include <spdlog/spdlog.h>

#include <algorithm>

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
  message_ptr m;
  if (auto ec = make_message(std::move(f), d, core_.message_ids.next(), m)) {
    fail(ec, &cause, "expires must be milliseconds since the epoch (0 = never)");
    return;
  }
  const config& cfg = core_.cfg;
  if (core_.stored_first(m)) {  // RECEIPT once stored
    send_durable(m, std::move(cause));
    if (cfg.flow_control && cfg.max_stores_in_flight > 0 &&
        unsettled_stores_.size() >= cfg.max_stores_in_flight) {
      hold(pause_store);
    }
    return;
  }
  if (cfg.flow_control && m->target.kind == destination_kind::queue) {
    return send_to_queue(m, cause);
  }
  if (auto ec = core_.route(m)) {
    fail(ec, &cause, d.name + " already holds its maximum number of waiting messages");
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
    fail(ec, &cause, m->target.name + " holds " + std::to_string(q->hard_max()) +
                         " waiting messages: the publisher does not slow down");
    return;
  }
  send_receipt(cause);
  if (!full) return;
  if (std::find(full_queues_.begin(), full_queues_.end(), q) == full_queues_.end()) {
    full_queues_.push_back(q);
  }
  hold(pause_queue);
}

void stomp_session::on_queue_room(const std::shared_ptr<queue>& q) {
  std::erase(full_queues_, q);
  if (full_queues_.empty()) release(pause_queue);
}

// Resumes at 90% of the bound, so a publisher is not paused and resumed on every message.
void stomp_session::on_store_settled() {
  const std::size_t bound = core_.cfg.max_stores_in_flight;
  if (unsettled_stores_.size() <= bound - bound / 10) release(pause_store);
}

void stomp_session::hold(pause_cause c) {
  if ((paused_ & c) != 0 || state_ != state::connected) return;
  const bool first = paused_ == 0;
  paused_ |= c;
  if (!first) return;
  bump(core_.counters.publisher_pauses);
  core_.counters.paused_publishers.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("session {} ({}): reading paused ({})", id_, peer_.remote,
                c == pause_queue ? "queue full" : "store backlog");
  if (auto conn = conn_.lock()) conn->pause_reading();
}

void stomp_session::release(pause_cause c) {
  if ((paused_ & c) == 0) return;
  paused_ &= ~static_cast<unsigned>(c);
  if (paused_ != 0) return;
  core_.counters.paused_publishers.fetch_sub(1, std::memory_order_relaxed);
  spdlog::debug("session {} ({}): reading resumed", id_, peer_.remote);
  if (auto conn = conn_.lock()) conn->resume_reading();
}

// Closing: leaves the queues' waiting lists; the connection's reading ends with it.
void stomp_session::end_flow_control() {
  for (const auto& q : full_queues_) q->forget_waiter(no_);
  full_queues_.clear();
  if (paused_ != 0) core_.counters.paused_publishers.fetch_sub(1, std::memory_order_relaxed);
  paused_ = 0;
}

}  // namespace broker::detail
