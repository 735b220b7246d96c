#include "broker/broker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/detail/broker_core.hpp"
#include "broker/printable.hpp"
#include "broker/detail/idempotency_cache.hpp"
#include "broker/detail/inboxes.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"
#include "broker/store/store.hpp"

namespace broker {
namespace {

bool has_control(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Queues read from the store per console request: a bound on the answer, not on the store.
constexpr std::size_t max_store_queues = 100'000;

publish_result refused(publish_status s, std::string why) {
  return publish_result{s, {}, std::move(why)};
}

// A user queue over its bound drops its oldest messages (documented, and counted in
// store_dropped_total): to the user those are lost notifications, so the log says it too, once
// per tick that saw drops, with the knob to turn.
void report_overflow(detail::broker_core& core) {
  const std::uint64_t dropped = core.store->stats().dropped_overflow;
  if (dropped <= core.overflow_reported) return;
  const std::uint64_t n = dropped - core.overflow_reported;
  core.overflow_reported = dropped;
  spdlog::warn("user queues: {} oldest message{} dropped over [store] user_queue_max_messages = {}",
               n, n == 1 ? "" : "s", core.cfg.user_queue_max_messages);
}

}  // namespace

const char* to_string(publish_status s) noexcept {
  switch (s) {
    case publish_status::accepted: return "accepted";
    case publish_status::bad_request: return "bad_request";
    case publish_status::unauthorized: return "unauthorized";
    case publish_status::forbidden: return "forbidden";
    case publish_status::too_large: return "too_large";
    case publish_status::key_reused: return "key_reused";
    case publish_status::unavailable: return "unavailable";
  }
  return "unknown";
}

struct broker::impl {
  explicit impl(config c)
      : core(std::move(c)), idempotency(core.cfg.idempotency_window, core.cfg.idempotency_max_keys) {}

  /// `what` names the caller in the failure's log line ("publish API", "console").
  std::optional<auth::principal> authenticate(const credentials& who,
                                              const char* what = "publish API");
  void publish_as(const credentials& who, publish_request request, std::string idempotency_key,
                  std::function<void(publish_result)> done);
  publish_result check(const publish_request& r, const auth::principal& p, destination& d);
  void publish_checked(message_ptr m, std::string idem_key,
                       std::function<void(publish_result)> done);

  detail::broker_core core;
  detail::idempotency_cache idempotency;
};

broker::broker(config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}

// Login jobs reach the whole impl: they go first. Every append completion captures the
// router: let them all run before it goes.
broker::~broker() {
  stop_logins();
  impl_->core.store->flush();
}

std::shared_ptr<session> broker::open_session(std::shared_ptr<connection> conn) {
  return std::make_shared<detail::stomp_session>(impl_->core, conn);
}

std::string broker::publish(stomp::frame send) {
  destination d;
  const auto header = send.get("destination");
  const std::string raw(header.value_or(""));  // `send` is moved below
  std::error_code ec = header ? parse_destination(raw, d) : error::missing_destination;
  if (!ec && d.wildcard) ec = error::wildcard_send;
  message_ptr m;
  if (!ec) ec = make_message(std::move(send), d, impl_->core.message_ids.next(), m);
  if (!ec) ec = impl_->core.route(m);
  if (ec) {
    spdlog::info("publish to \"{}\" refused: {}", printable(raw), ec.message());
    return {};
  }
  return m->id;
}

std::string broker::publish_to_user(std::string_view user, std::string_view destination_suffix,
                                    std::string body, std::vector<stomp::header> headers) {
  if (!destination_suffix.starts_with("/queue/") && !destination_suffix.starts_with("/topic/")) {
    spdlog::info("publish to user \"{}\" refused: \"{}\" is not /queue/... or /topic/...",
                 printable(user), printable(destination_suffix));
    return {};
  }
  stomp::frame send;
  send.command = "SEND";
  send.add("destination", "/user/" + encode_user(user) + std::string(destination_suffix));
  for (stomp::header& h : headers) send.headers.push_back(std::move(h));
  send.body = std::move(body);
  return publish(std::move(send));
}

std::optional<auth::principal> broker::impl::authenticate(const credentials& who,
                                                          const char* what) {
  if (!core.cfg.authenticator) return auth::principal{who.login, {"user", "publisher"}, {}};
  std::error_code ec;
  auto p = core.cfg.authenticator->authenticate(who, ec);
  if (!p) {
    bump(core.counters.auth_failures);
    spdlog::info("{}: authentication of \"{}\" from {} failed: {}", what,
                 printable(who.login),
                 who.peer_address, ec ? ec.message() : "refused");
  }
  return p;
}

// Everything but the credentials; fills `d` on success.
publish_result broker::impl::check(const publish_request& r, const auth::principal& p,
                                   destination& d) {
  if (r.body.size() > core.cfg.frame_limits.max_body) {
    return refused(publish_status::too_large, "the body is over the size limit");
  }
  if (r.headers.size() + 1 > core.cfg.frame_limits.max_headers) {
    return refused(publish_status::bad_request, "too many headers");
  }
  for (const stomp::header& h : r.headers) {
    if (h.name.empty() || has_control(h.name) || has_control(h.value)) {
      return refused(publish_status::bad_request, "header names and values must be printable");
    }
  }
  if (r.destination.empty()) return refused(publish_status::bad_request, "no destination");
  if (auto ec = parse_destination(r.destination, d)) {
    return refused(publish_status::bad_request, ec.message() + ": " + r.destination);
  }
  if (d.wildcard) return refused(publish_status::bad_request, "wildcards are for SUBSCRIBE only");
  if (!core.allowed(p, auth::action::send, d)) {
    bump(core.counters.forbidden);
    return refused(publish_status::forbidden, "you may not send to " + d.resolved());
  }
  // As a SEND that leaves bytes held: past the server budget it waits, here the caller retries.
  if (d.kind != destination_kind::topic && d.kind != destination_kind::user_topic &&
      core.held.over()) {
    return refused(publish_status::unavailable,
                   "server memory full (limits.max_held_bytes); retry later");
  }
  return {};
}

// A password check runs on the login threads (the caller is an I/O thread); the rest of the
// request follows it there.
void broker::api_publish(const credentials& who, publish_request request,
                         std::string idempotency_key, std::function<void(publish_result)> done) {
  auto& core = impl_->core;
  if (!core.cfg.authenticator || !core.cfg.authenticator->slow(who)) {
    return impl_->publish_as(who, std::move(request), std::move(idempotency_key), std::move(done));
  }
  auto job = [impl = impl_.get(), who, request = std::move(request),
              key = std::move(idempotency_key), done]() mutable {
    impl->publish_as(who, std::move(request), std::move(key), std::move(done));
  };
  if (!core.logins.try_submit(std::move(job))) {
    spdlog::warn("publish API: {} password checks already wait: request from {} refused",
                 core.cfg.verify_queue, who.peer_address);
    done(refused(publish_status::unavailable, "server busy"));
  }
}

void broker::impl::publish_as(const credentials& who, publish_request request,
                              std::string idempotency_key,
                              std::function<void(publish_result)> done) {
  const auto principal = authenticate(who);
  if (!principal) return done(refused(publish_status::unauthorized, "access refused"));
  destination d;
  if (publish_result r = check(request, *principal, d);
      r.status != publish_status::accepted) {
    return done(std::move(r));
  }
  const std::uint64_t print =
      idempotency_key.empty() ? 0 : detail::idempotency_cache::fingerprint(request);
  stomp::frame send;
  send.command = "SEND";
  send.headers = std::move(request.headers);
  send.body = std::move(request.body);
  if (core.cfg.stamp_sender) stamp_sender(send, core.cfg.sender_header, principal->name);
  message_ptr m;
  if (make_message(std::move(send), d, core.message_ids.next(), m)) {
    return done(refused(publish_status::bad_request, "expires must be ms since the epoch"));
  }
  std::string key;
  if (!idempotency_key.empty()) {
    key = principal->name + '\n' + idempotency_key;  // one user's keys never answer another's
    switch (idempotency.begin(key, print, m->id, core.now(), done)) {
      case detail::idempotency_cache::outcome::publish: break;
      case detail::idempotency_cache::outcome::retry: return;
      case detail::idempotency_cache::outcome::reused:
        // Answering the first id here would drop this message without a word.
        return done(refused(publish_status::key_reused,
                            fmt::format("Idempotency-Key \"{}\" was already used for a different "
                                        "request (destination, headers or body)",
                                        idempotency_key)));
    }
  }
  publish_checked(std::move(m), std::move(key), std::move(done));
}

void broker::impl::publish_checked(message_ptr m, std::string idem_key,
                                   std::function<void(publish_result)> done) {
  auto finish = [this, key = std::move(idem_key), done = std::move(done)](publish_result r) {
    if (!key.empty()) idempotency.finish(key, r);
    done(std::move(r));
  };
  const std::string id = m->id;
  if (!core.stored_first(m)) {
    const std::error_code ec = core.route(m);
    return finish(ec ? refused(publish_status::unavailable, ec.message())
                     : publish_result{publish_status::accepted, id, {}});
  }
  core.route(m, [finish = std::move(finish), id](std::error_code ec, std::uint64_t) {
    finish(ec ? refused(publish_status::unavailable,
                        ec == error::queue_full ? ec.message() : "message not stored")
              : publish_result{publish_status::accepted, id, {}});
  });
}

void broker::tick() {
  auto& core = impl_->core;
  const auto now = core.now();
  const auto token_expired = [now](const detail::expiring_session& e) { return e.expires <= now; };
  for (const auto& e : core.expiring.select(token_expired)) {
    if (auto conn = e.conn.lock()) {
      conn->post([s = e.session] {
        if (auto target = s.lock()) target->check_expiry();
      });
    }
  }
  // Paused by the server-wide budget: each checks on its strand whether it may go on.
  for (const auto& w : core.budget_paused.select([](const auto&) { return true; })) {
    if (auto conn = w.conn.lock()) {
      conn->post([s = w.session] {
        if (auto target = s.lock()) target->on_budget_check();
      });
    }
  }
  core.users.retry_failed_loads();
  report_overflow(core);
  core.history.purge(now);
  const std::size_t expired = core.reg.purge_expired();
  core.counters.messages_expired.fetch_add(expired, std::memory_order_relaxed);
}

void broker::flush() { impl_->core.store->flush(); }

void broker::stop_logins() { impl_->core.logins.stop(); }

void broker::attach_cluster(std::shared_ptr<cluster_link> link) {
  auto& core = impl_->core;
  core.cluster = std::move(link);
  core.reg.set_cluster(core.cluster.get());
  core.users.set_cluster(core.cluster.get());
}

void broker::deliver_remote(const message_ptr& m, std::uint64_t seq, std::string_view pattern) {
  auto& core = impl_->core;
  if (m->target.is_user()) return core.users.deliver_remote(m, seq);
  if (m->target.kind == destination_kind::topic) core.reg.route_remote(m, pattern);
}

void broker::deliver_remote_queued(const message_ptr& m) {
  impl_->core.reg.queue_for(m->target.name)->enqueue_taken(m);
}

std::size_t broker::queue_room(const std::string& name) {
  return impl_->core.reg.queue_for(name)->room();
}

void broker::shared_queue_room(const std::string& name) {
  impl_->core.reg.queue_for(name)->wake_shared_waiters();
}

bool broker::ready() const {
  const auto& core = impl_->core;
  return core.store->writable() && (!core.cluster || core.cluster->ready());
}

std::string broker::cluster_metrics() const {
  const auto& core = impl_->core;
  return core.cluster ? core.cluster->metrics_text() : std::string();
}

const ::broker::stats& broker::stats() const noexcept { return impl_->core.counters; }

const config& broker::settings() const noexcept { return impl_->core.cfg; }

byte_budget& broker::held() noexcept { return impl_->core.held; }

const byte_budget& broker::held() const noexcept { return impl_->core.held; }

const store::store& broker::durable_store() const noexcept { return *impl_->core.store; }

destination_list broker::destinations(std::size_t max) const {
  return impl_->core.reg.describe(max);
}

void broker::inboxes(std::size_t max, inbox_handler done) const {
  impl_->core.store->summarize_async(
      max_store_queues, [max, done = std::move(done)](std::vector<store::queue_summary> queues,
                                                      std::error_code ec) {
        done(detail::group_inboxes(queues, max), ec);
      });
}

// The user's queues come from the store's summary; each is purged in turn, then `done`.
void broker::purge_inbox(std::string user, purge_handler done) {
  auto store = impl_->core.store;
  store->summarize_async(max_store_queues, [store, user = std::move(user), done = std::move(done)](
                                               std::vector<store::queue_summary> queues,
                                               std::error_code ec) {
    if (ec) return done(0, ec);
    std::make_shared<detail::inbox_purge>(store, detail::queues_of(queues, user), done)->next();
  });
}

void broker::authenticate(const credentials& who,
                          std::function<void(std::optional<auth::principal>)> done) const {
  auto& core = impl_->core;
  if (!core.cfg.authenticator || !core.cfg.authenticator->slow(who)) {
    return done(impl_->authenticate(who, "console"));
  }
  auto job = [impl = impl_.get(), who, done] { done(impl->authenticate(who, "console")); };
  if (!core.logins.try_submit(std::move(job))) {
    spdlog::warn("console: {} password checks already wait: request from {} refused",
                 core.cfg.verify_queue, who.peer_address);
    done(std::nullopt);
  }
}

}  // namespace broker
