#include "app/wiring.hpp"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "auth/config.hpp"
#include "auth/rules_authorizer.hpp"
#include "auth/users_file.hpp"
#include "cluster/store/redis_store.hpp"
#include "broker/store/sqlite_store.hpp"

namespace app {

namespace {

constexpr const char* loopback = "127.0.0.1";

std::shared_ptr<auth::chain> make_authenticator(const settings& s) {
  std::optional<std::vector<auth::user_record>> users;
  if (!s.auth.users_file.empty()) users = auth::load_users(s.auth.users_file);
  return auth::make_authenticator(std::move(users), s.jwt, s.auth.failed_logins_per_minute,
                                  s.auth.credential_cache);
}

}  // namespace

bool development_mode(const settings& s) noexcept {
  return s.auth.users_file.empty() && !s.jwt;
}

void apply_development_defaults(settings& s) {
  if (!development_mode(s)) return;
  if (!s.ws_host_given) s.server.ws_host = loopback;
  if (!s.tcp_host_given) s.server.tcp_host = loopback;
  // The developer's page on another local port (http://localhost:3000) is another origin.
  s.server.loopback_origins = true;
}

std::string development_warning(const settings& s) {
  const bool exposed = s.server.ws_host != loopback || s.server.tcp_host != loopback;
  return fmt::format(
      "\n"
      "********************************************************************************\n"
      "* WARNING: DEVELOPMENT MODE - NO AUTHENTICATION                                *\n"
      "* Neither a users file (--users, [auth] users_file) nor a [jwt] table is set:  *\n"
      "* ANY client may connect as ANY user, read every user's queue and publish to   *\n"
      "* everyone (the publish API included). Not for production.                     *\n"
      "{}"
      "********************************************************************************",
      exposed
          ? "* AND A LISTENER IS BOUND TO A NON-LOOPBACK ADDRESS GIVEN IN THE SETTINGS.     *\n"
          : "* Listeners bind 127.0.0.1 only (give an address explicitly to change it).     *\n");
}

void wire_broker(settings& s) {
  try {
    s.logins = make_authenticator(s);
    s.broker.authenticator = s.logins;
    s.broker.verify_threads = s.auth.verify_threads;
    s.broker.verify_queue = s.auth.verify_queue;
    s.broker.authorizer = std::make_shared<auth::rules_authorizer>(s.acl);
  } catch (const std::exception& e) {
    throw config_error(e.what());
  }
  if (!s.cluster_redis.empty()) {  // every node must see every user queue: they live in Redis
    cluster::redis_store_options options;
    options.where = s.cluster_redis_options;
    options.min_replicas = static_cast<int>(s.cluster_min_replicas);
    options.min_replicas_timeout = s.cluster_min_replicas_timeout;
    options.keep = broker::store::retention{s.broker.user_queue_max_messages,
                                            s.broker.user_queue_max_age};
    s.broker.store = std::make_shared<cluster::redis_store>(std::move(options));
    return;
  }
  broker::store::sqlite_options options;
  options.data_dir = s.data_dir;
  options.commit_delay = std::chrono::microseconds(s.commit_delay_us);
  s.broker.store = std::make_shared<broker::store::sqlite_store>(std::move(options));
}

}  // namespace app
