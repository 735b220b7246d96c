// BEGIN, COMMIT, ABORT (STOMP 1.2 §BEGIN..§ABORT). SEND, ACK and NACK naming a transaction are
// checked when they arrive (so mistakes fail early, with their own receipt-id), held, and take
// effect in order at COMMIT; ABORT or the end of the session drops them. Their RECEIPT is sent
// when they are accepted into the transaction; the COMMIT's once every durable SEND it made is
// stored.
#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker::detail {

bool stomp_session::buffer_in_transaction(stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return false;
  auto it = transactions_.find(std::string(*tx));
  if (it == transactions_.end()) {
    fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
    return true;
  }
  if (it->second.size() >= core_.cfg.max_transaction_frames) {
    fail(error::transaction_too_large, &f, "the transaction holds too many frames");
    return true;
  }
  std::string detail;
  destination d;
  std::uint64_t seq = 0;
  std::error_code ec = f.command == "SEND" ? check_send(f, d, detail) : find_ack(f, seq);
  if (ec) {
    fail(ec, &f, detail.empty() ? "no unacknowledged message matches this " + f.command : detail);
    return true;
  }
  send_receipt(f);
  stomp::frame held = std::move(f);
  held.erase("transaction");
  held.erase("receipt");
  it->second.push_back(std::move(held));
  return true;
}

void stomp_session::handle_begin(const stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return fail(error::missing_transaction, &f, "BEGIN needs a transaction header");
  if (!transactions_.try_emplace(std::string(*tx)).second) {
    return fail(error::transaction_already_begun, &f,
                "transaction " + std::string(*tx) + " is already open");
  }
  send_receipt(f);
}

void stomp_session::handle_commit(const stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return fail(error::missing_transaction, &f, "COMMIT needs a transaction header");
  auto it = transactions_.find(std::string(*tx));
  if (it == transactions_.end()) {
    return fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
  }
  std::vector<stomp::frame> held = std::move(it->second);
  transactions_.erase(it);
  for (stomp::frame& frame : held) {
    if (state_ != state::connected) return;
    std::uint64_t seq = 0;
    // An ACK made moot since (a later cumulative ACK, or its subscription gone) has no effect.
    if (frame.command != "SEND" && find_ack(frame, seq)) continue;
    on_connected_frame(frame);
  }
  // Durable SENDs of the transaction are stored by now only if the store was quick: the
  // RECEIPT says "committed", so it waits for them.
  if (state_ == state::connected) receipt_after_stores(f);
}

void stomp_session::handle_abort(const stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return fail(error::missing_transaction, &f, "ABORT needs a transaction header");
  if (transactions_.erase(std::string(*tx)) == 0) {
    return fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
  }
  send_receipt(f);
}

}  // namespace broker::detail
