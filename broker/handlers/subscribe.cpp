// SUBSCRIBE and UNSUBSCRIBE (STOMP 1.2 §SUBSCRIBE, §UNSUBSCRIBE).
#include <algorithm>
#include <charconv>

#include "broker/detail/broker_core.hpp"
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

void stomp_session::handle_subscribe(const stomp::frame& f) {
  const auto raw = f.get("destination");
  if (!raw) return fail(error::missing_destination, &f, "SUBSCRIBE needs a destination header");
  // STOMP 1.0 made `id` optional; the destination then names the subscription.
  const auto id_header = f.get("id");
  if (!id_header && version_ != stomp::version::v1_0) {
    return fail(error::missing_id, &f, "SUBSCRIBE needs an id header");
  }
  const std::string id(id_header ? *id_header : *raw);
  destination d;
  if (auto ec = parse_destination(*raw, d)) {
    return fail(ec, &f, ec == error::unknown_destination_prefix
                            ? "destinations start with one of: " + std::string(known_prefixes())
                            : "not a valid destination: " + std::string(*raw));
  }
  if (d.wildcard && d.kind == destination_kind::queue) {
    return fail(error::wildcard_queue, &f, "queues cannot be subscribed with wildcards");
  }
  if (!allowed(auth::action::subscribe, d)) {
    return fail(error::not_authorized, &f, "you may not subscribe to " + d.name);
  }
  if (subscriptions_.contains(id)) {
    return fail(error::duplicate_subscription, &f, "subscription id already in use: " + id);
  }
  if (subscriptions_.size() >= core_.cfg.max_subscriptions_per_session) {
    return fail(error::too_many_subscriptions, &f, "this session has too many subscriptions");
  }
  subscription sub;
  if (!parse_ack_mode(f.get("ack"), sub.ack)) {
    return fail(error::invalid_ack_mode, &f, "ack must be auto, client or client-individual");
  }
  std::size_t prefetch = 0;
  if (!parse_prefetch(f.get("prefetch-count"), prefetch)) {
    return fail(error::invalid_prefetch, &f, "prefetch-count must be a decimal number");
  }
  sub.id = id;
  sub.dest = d;
  // Recorded before the registry can post deliveries; those run later on this strand anyway.
  sub.handle = core_.reg.subscribe(subscriber{no_, conn_, weak_from_this()}, d,
                                   sub.ack == ack_mode::automatic, prefetch, sub.q);
  by_handle_.emplace(sub.handle, id);
  subscriptions_.emplace(id, std::move(sub));
  send_receipt(f);
}

void stomp_session::handle_unsubscribe(const stomp::frame& f) {
  auto it = subscriptions_.end();
  if (const auto id = f.get("id")) {
    it = subscriptions_.find(std::string(*id));
  } else if (const auto raw = f.get("destination"); raw && version_ == stomp::version::v1_0) {
    destination d;
    it = subscriptions_.find(std::string(*raw));
    if (it == subscriptions_.end() && !parse_destination(*raw, d)) {
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
  std::erase_if(pending_, [&](const auto& p) { return p.second.subscription == it->first; });
  core_.reg.unsubscribe(no_, it->second.handle);
  by_handle_.erase(it->second.handle);
  subscriptions_.erase(it);
  send_receipt(f);
}

}  // namespace broker::detail
