// SEND (STOMP 1.2 §SEND): canonical destination, then routed to topic subscribers or a queue.
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
  if (m->target.kind == destination_kind::user_queue) return send_durable(m, std::move(cause));
  if (auto ec = core_.route(m)) {
    fail(ec, &cause, d.name + " already holds its maximum number of waiting messages");
    return;
  }
  send_receipt(cause);
}

}  // namespace broker::detail
