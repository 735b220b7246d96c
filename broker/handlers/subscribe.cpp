// SUBSCRIBE and UNSUBSCRIBE (STOMP 1.2 §SUBSCRIBE, §UNSUBSCRIBE).
#include <algorithm>
#include <charconv>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/history_gate.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker::detail {
namespace {

bool parse_ack_mode(std::optional<std::string_view> value, ack_mode& out) {
  if (!value || *value == "auto") {
    out = ack_mode::automatic;
  } else if (*value == "client") {
    out = ack_mode::client;
  } else if (*value == "client-individual") {
    out = ack_mode::client_individual;
  } else {
    return false;
  }
  return true;
}

// RabbitMQ's prefetch-count: unacked messages a client-mode consumer may hold; 0 = no cap.
bool parse_prefetch(std::optional<std::string_view> value, std::size_t& out) {
  out = 0;
  if (!value) return true;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, out);
  return ec == std::errc{} && ptr == end;
}

}  // namespace

/// The live messages of a recovering subscription of a shared history, held until its read
/// is delivered; their bytes are charged to the server's budget while held.
struct recovery_hold {
  stomp::frame receipt_of;  ///< the SUBSCRIBE's receipt header, for the RECEIPT sent at the end
  recover_request from;
  std::vector<message_ptr> live;
  std::vector<held_bytes> charged;
  std::size_t bytes = 0;
  bool overflow = false;  ///< more than max_recovery_held_bytes: answered x-recovered:false
};

// Everything a SUBSCRIBE must satisfy; fills `sub` (all but the handle) and `prefetch`.
std::error_code stomp_session::check_subscribe(const stomp::frame& f, subscription& sub,
                                               std::size_t& prefetch, std::string& detail) const {
  auto refuse = [&detail](error e, std::string why) {
    detail = std::move(why);
    return make_error_code(e);
  };
  const auto raw = f.get("destination");
  if (!raw) return refuse(error::missing_destination, "SUBSCRIBE needs a destination header");
  // STOMP 1.0 made `id` optional; the destination then names the subscription.
  const auto id = f.get("id");
  if (!id && version_ != stomp::version::v1_0) {
    return refuse(error::missing_id, "SUBSCRIBE needs an id header");
  }
  sub.id = std::string(id ? *id : *raw);
  if (auto ec = parse_destination(*raw, sub.dest, destination_use::subscribe)) {
    detail = ec == error::unknown_destination_prefix
                 ? "destinations start with one of: " + std::string(known_prefixes())
                 : "not a valid destination: " + std::string(*raw);
    return ec;
  }
  if (sub.dest.wildcard && sub.dest.kind == destination_kind::queue) {
    return refuse(error::wildcard_queue, "queues cannot be subscribed with wildcards");
  }
  if (auto ec = resolve_user(sub, detail)) return ec;
  if (!allowed(auth::action::subscribe, sub.dest)) {
    return refuse(error::not_authorized, "you may not subscribe to " + sub.dest.resolved());
  }
  if (subscriptions_.contains(sub.id)) {
    return refuse(error::duplicate_subscription, "subscription id already in use: " + sub.id);
  }
  if (subscriptions_.size() >= core_.cfg.max_subscriptions_per_session) {
    return refuse(error::too_many_subscriptions, "this session has too many subscriptions");
  }
  if (!parse_ack_mode(f.get("ack"), sub.ack)) {
    return refuse(error::invalid_ack_mode, "ack must be auto, client or client-individual");
  }
  if (!parse_prefetch(f.get("prefetch-count"), prefetch)) {
    return refuse(error::invalid_prefetch, "prefetch-count must be a decimal number");
  }
  return {};
}

void stomp_session::handle_subscribe(const stomp::frame& f) {
  subscription sub;
  std::size_t prefetch = 0;
  std::string detail;
  if (auto ec = check_subscribe(f, sub, prefetch, detail)) return fail(ec, &f, std::move(detail));
  const auto recover_from = f.get("x-recover-from");
  recover_request from;
  if (recover_from && (!parse_recover_from(*recover_from, from) ||
                       (sub.dest.wildcard && !from.listed))) {
    return fail(error::invalid_recover_from, &f,
                sub.dest.wildcard
                    ? "x-recover-from on a wildcard subscription lists "
                      "DESTINATION=EPOCH:OFFSET entries, separated by commas"
                    : "x-recover-from is the x-position last received: EPOCH:OFFSET");
  }
  core_.counters.subscriptions.fetch_add(1, std::memory_order_relaxed);
  // Only topics keep history: elsewhere the RECEIPT says nothing was recovered.
  std::vector<stomp::header> not_recovered;
  if (recover_from) not_recovered.push_back({"x-recovered", "false"});
  if (sub.dest.is_user()) {
    // Before the stored backlog, which subscribe_user starts loading.
    send_receipt(f, std::move(not_recovered));
    return subscribe_user(sub, prefetch);
  }
  if (recover_from && sub.dest.kind == destination_kind::topic) {
    return subscribe_recovering(f, std::move(sub), from);
  }
  // Recorded before the registry can post deliveries; those run later on this strand anyway.
  sub.handle = core_.reg.subscribe(subscriber{no_, conn_, weak_from_this()}, sub.dest,
                                   sub.ack == ack_mode::automatic, prefetch, sub.q);
  by_handle_.emplace(sub.handle, sub.id);
  const std::string id = sub.id;
  subscriptions_.emplace(id, std::move(sub));
  send_receipt(f, std::move(not_recovered));
}

// Registered and read in one step (history_gate), then, on this strand before any live
// delivery can run: the RECEIPT with x-recovered, and the messages missed.
void stomp_session::subscribe_recovering(const stomp::frame& f, subscription sub,
                                         const recover_request& from) {
  if (core_.history.shared()) return subscribe_recovering_shared(f, std::move(sub), from);
  recovery r = core_.history.subscribe(subscriber{no_, conn_, weak_from_this()}, sub.dest, from,
                                       core_.now(), sub.handle);
  const std::uint64_t handle = sub.handle;
  by_handle_.emplace(handle, sub.id);
  const std::string id = sub.id;
  subscriptions_.emplace(id, std::move(sub));
  send_receipt(f, {{"x-recovered", r.recovered ? "true" : "false"}});
  // deliver skips expired messages and stops once the session ends (a slow consumer).
  for (const message_ptr& m : r.messages) deliver(handle, m);
}

// A cluster: registered first (live messages held from then on), the history read when the
// node hears the topic on Redis; then, on this strand, the RECEIPT, what was read, and the held
// messages the read did not have (live_after_recovery). Exactly once, in order.
void stomp_session::subscribe_recovering_shared(const stomp::frame& f, subscription sub,
                                                const recover_request& from) {
  auto hold = std::make_shared<recovery_hold>();
  hold->receipt_of.command = f.command;
  if (const auto receipt = f.get("receipt")) hold->receipt_of.add("receipt", std::string(*receipt));
  hold->from = from;
  sub.hold = hold;
  const std::string id = sub.id;
  subscription& added = subscriptions_.emplace(id, std::move(sub)).first->second;
  // The answer may come at once (Redis down) but runs on this strand, after we return.
  core_.history.subscribe_shared(
      subscriber{no_, conn_, weak_from_this()}, added.dest, from, core_.now(), added.handle,
      [conn = conn_, self = weak_from_this(), id, hold](recovery r) mutable {
        if (auto c = conn.lock()) {
          c->post([self, id, hold, r = std::move(r)]() mutable {
            if (auto s = self.lock()) s->finish_recovery(id, hold, std::move(r));
          });
        }
      });
  by_handle_.emplace(added.handle, id);
}

void stomp_session::hold_live(const subscription& sub, const message_ptr& m) {
  recovery_hold& hold = *sub.hold;
  if (hold.overflow) return;
  const std::size_t bytes = held_size(*m);
  std::optional<held_bytes> charged;
  if (hold.bytes + bytes <= core_.cfg.max_recovery_held_bytes) {
    charged = held_bytes::try_hold(core_.held, bytes);
  }
  if (!charged) {  // the client reloads: what is held is of no use any more
    hold.overflow = true;
    hold.live.clear();
    hold.charged.clear();
    hold.bytes = 0;
    return;
  }
  hold.bytes += bytes;
  hold.charged.push_back(std::move(*charged));
  hold.live.push_back(m);
}

void stomp_session::finish_recovery(const std::string& id,
                                    const std::shared_ptr<recovery_hold>& hold, recovery r) {
  if (state_ != state::connected) return;
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end() || it->second.hold != hold) return;  // unsubscribed since
  subscription& sub = it->second;
  sub.hold.reset();  // live from here on
  const std::uint64_t handle = sub.handle;
  if (hold->overflow) r = {};
  send_receipt(hold->receipt_of, {{"x-recovered", r.recovered ? "true" : "false"}});
  // Not recovered: only what came live since the SUBSCRIBE (the client reloads).
  const std::vector<message_ptr> live =
      r.recovered ? live_after_recovery(hold->from, r.messages, hold->live) : hold->live;
  for (const message_ptr& m : r.messages) deliver(handle, m);
  for (const message_ptr& m : live) deliver(handle, m);
}

void stomp_session::handle_unsubscribe(const stomp::frame& f) {
  auto it = subscriptions_.end();
  if (const auto id = f.get("id")) {
    it = subscriptions_.find(std::string(*id));
  } else if (const auto raw = f.get("destination"); raw && version_ == stomp::version::v1_0) {
    destination d;
    it = subscriptions_.find(std::string(*raw));
    if (it == subscriptions_.end() && !parse_destination(*raw, d, destination_use::subscribe)) {
      it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                        [&](const auto& s) { return s.second.dest.name == d.name; });
    }
  } else {
    return fail(error::missing_id, &f, "UNSUBSCRIBE needs an id header");
  }
  if (it == subscriptions_.end()) {
    return fail(error::unknown_subscription, &f, "no subscription with that id");
  }
  // Forget its unacked messages: the queue takes them back (redelivered) when the consumer goes.
  if (rare_) {
    std::erase_if(rare_->pending,
                  [&](const auto& p) { return p.second.subscription == it->first; });
  }
  forget(it->second);
  subscriptions_.erase(it);
  send_receipt(f);
}

}  // namespace broker::detail
