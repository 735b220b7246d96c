// ACK and NACK (STOMP 1.2 §ACK, §NACK). 1.2 names the delivery by the MESSAGE's `ack` header
// (sent as `id`); 1.1 by `message-id` + `subscription`; 1.0 by `message-id`. In `client` mode an
// ACK or NACK also settles every earlier unacked message of that subscription (cumulative, as
// RabbitMQ does for NACK too); in `client-individual` mode only the one named.
#include <charconv>
#include <vector>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker::detail {

std::error_code stomp_session::find_ack(const stomp::frame& f, std::uint64_t& seq) const {
  if (version_ == stomp::version::v1_2) {
    const auto id = f.get("id");
    if (!id) return error::missing_id;
    const char* end = id->data() + id->size();
    const auto [ptr, ec] = std::from_chars(id->data(), end, seq);
    if (ec != std::errc{} || ptr != end || !rare().pending.contains(seq))
      return error::unknown_ack_id;
    return {};
  }
  const auto message_id = f.get("message-id");
  const auto sub = f.get("subscription");
  if (!message_id || (!sub && version_ == stomp::version::v1_1)) return error::missing_id;
  for (const auto& [s, p] : rare().pending) {
    if (p.message_id == *message_id && (!sub || p.subscription == *sub)) {
      seq = s;
      return {};
    }
  }
  return error::unknown_ack_id;
}

void stomp_session::settle(std::uint64_t seq, bool positive) {
  const std::string sub_id = rare().pending.at(seq).subscription;
  const subscription& sub = subscriptions_.at(sub_id);
  std::vector<std::uint64_t> deliveries;
  auto settle_one = [&](auto it) {
    if (it->second.delivery != 0) deliveries.push_back(it->second.delivery);
    // A user-queue message leaves the store on its first ACK from any of the user's sessions.
    if (it->second.user_seq != 0) settled_user(it->second, positive);
    return rare().pending.erase(it);
  };
  if (sub.ack == ack_mode::client) {
    for (auto it = rare().pending.begin(); it != rare().pending.end() && it->first <= seq;) {
      it = it->second.subscription == sub_id ? settle_one(it) : std::next(it);
    }
  } else {
    settle_one(rare().pending.find(seq));
  }
  // Topic messages have nothing to settle: a NACKed topic message is simply dropped.
  if (sub.q && !deliveries.empty()) sub.q->settle(sub.handle, deliveries, !positive);
}

void stomp_session::handle_ack(const stomp::frame& f, bool positive) {
  std::uint64_t seq = 0;
  if (auto ec = find_ack(f, seq)) {
    return fail(ec, &f, ec == error::missing_id
                            ? (version_ == stomp::version::v1_2
                                   ? f.command + " needs the id header (the MESSAGE's ack value)"
                                   : f.command + " needs message-id and subscription headers")
                            : "no unacknowledged message matches this " + f.command);
  }
  settle(seq, positive);
  send_receipt(f);
}

}  // namespace broker::detail
