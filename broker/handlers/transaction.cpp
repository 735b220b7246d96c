// BEGIN, COMMIT, ABORT (STOMP 1.2 §BEGIN..§ABORT). SEND, ACK and NACK naming a transaction are
// checked when they arrive (so mistakes fail early, with their own receipt-id), held, and take
// effect in order at COMMIT; ABORT or the end of the session drops them. Their RECEIPT is sent
// when they are accepted into the transaction; the COMMIT's once every durable SEND it made is
// stored.
//
// What a transaction holds is bounded in frames (max_transaction_frames), in bytes
// (max_transaction_bytes), per session (max_transactions_per_session open at once, and
// max_session_held_bytes with the durable SENDs awaiting the store), and charged to the
// server-wide budget until COMMIT, ABORT or the end of the session. Over a per-transaction or
// per-session bound: ERROR naming the knob, since only a client bug gets there.
#include <string>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker::detail {

bool stomp_session::buffer_in_transaction(stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return false;
  auto it = rare().transactions.find(std::string(*tx));
  if (it == rare().transactions.end()) {
    fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
    return true;
  }
  const config& cfg = core_.cfg;
  if (it->second.frames.size() >= cfg.max_transaction_frames) {
    fail(error::transaction_too_large, &f,
         "the transaction holds limits.max_transaction_frames (" +
             std::to_string(cfg.max_transaction_frames) + ") frames");
    return true;
  }
  const std::size_t bytes = held_size(f);
  if (cfg.max_transaction_bytes > 0 && it->second.bytes + bytes > cfg.max_transaction_bytes) {
    fail(error::transaction_too_large, &f,
         "the transaction would hold more than limits.max_transaction_bytes (" +
             std::to_string(cfg.max_transaction_bytes) + " bytes)");
    return true;
  }
  if (cfg.max_session_held_bytes > 0 && held_.bytes() + bytes > cfg.max_session_held_bytes) {
    fail(error::session_held_too_large, &f,
         "this session's open transactions and unstored SENDs would hold more than "
         "limits.max_session_held_bytes (" +
             std::to_string(cfg.max_session_held_bytes) + " bytes)");
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
  it->second.frames.push_back(std::move(held));
  it->second.bytes += bytes;
  held_.add(bytes);
  return true;
}

void stomp_session::handle_begin(const stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return fail(error::missing_transaction, &f, "BEGIN needs a transaction header");
  const std::size_t most = core_.cfg.max_transactions_per_session;
  auto& txs = rare().transactions;
  if (most > 0 && txs.size() >= most && !txs.contains(std::string(*tx))) {
    return fail(error::too_many_transactions, &f,
                "this session already holds limits.max_transactions_per_session (" +
                    std::to_string(most) + ") open transactions");
  }
  if (!rare().transactions.try_emplace(std::string(*tx)).second) {
    return fail(error::transaction_already_begun, &f,
                "transaction " + std::string(*tx) + " is already open");
  }
  send_receipt(f);
}

void stomp_session::handle_commit(const stomp::frame& f) {
  const auto tx = f.get("transaction");
  if (!tx) return fail(error::missing_transaction, &f, "COMMIT needs a transaction header");
  auto it = rare().transactions.find(std::string(*tx));
  if (it == rare().transactions.end()) {
    return fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
  }
  std::vector<stomp::frame> held = std::move(it->second.frames);
  held_.release(it->second.bytes);  // from here on charged where they go (queues, the store)
  rare().transactions.erase(it);
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
  auto it = rare().transactions.find(std::string(*tx));
  if (it == rare().transactions.end()) {
    return fail(error::unknown_transaction, &f, "no open transaction called " + std::string(*tx));
  }
  held_.release(it->second.bytes);
  rare().transactions.erase(it);
  send_receipt(f);
}

}  // namespace broker::detail
