#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/chain.hpp"
#include "auth/config.hpp"
#include "auth/jwt.hpp"
#include "auth/rules_authorizer.hpp"
#include "broker/broker.hpp"
#include "cluster/redis/options.hpp"
#include "transport/metrics.hpp"
#include "transport/server.hpp"

namespace app {

/// Everything the binary is configured with: defaults, then the TOML file, then the flags.
struct settings {
  broker::config broker;           ///< broker-level settings
  transport::server_config server; ///< listeners, TLS, timeouts, back-pressure
  unsigned threads = 0;            ///< io_context threads; 0 = hardware concurrency
  std::string log_level = "info";  ///< trace, debug, info, warn, error, critical, off
  std::string log_format = "text";  ///< [log] format / --log-format: text or json (one object a line)
  transport::metrics_config metrics;  ///< [metrics] / --metrics HOST:PORT: /metrics, /healthz, /readyz
  std::string config_file;         ///< the file read, empty when none

  // Who may log in and what they may do; where durable user queues live. The binary turns
  // these into broker.authenticator / authorizer / store (see app/wiring.hpp).
  auth::auth_settings auth;            ///< [auth]; --users FILE overrides users_file
  std::optional<auth::jwt_config> jwt; ///< [jwt]; none = no bearer tokens
  std::vector<auth::acl_rule> acl;     ///< [[acl]]; empty = auth::default_acl()
  /// broker.authenticator as its chain, kept by wire_broker so SIGHUP can reload the users file
  /// (app/reload.hpp); null in development mode.
  std::shared_ptr<auth::chain> logins;
  std::string data_dir = "./data";     ///< [store] data_dir / --data-dir; ":memory:" = no file
  /// [store] commit_delay_us: under load, the SQLite writer gathers this long before a commit
  /// (see broker::store::sqlite_options::commit_delay); at most 100,000.
  std::size_t commit_delay_us = 1000;
  /// [cluster] redis / --cluster-redis: redis://host:port[/db] joins the nodes sharing that
  /// Redis (live routing + durable user queues there, docs/cluster.md); empty = a single node.
  std::string cluster_redis;
  /// [cluster] redis_password_file: the Redis password is this file's first line (wins over the
  /// URL's); empty = none.
  std::string cluster_redis_password_file;
  /// [cluster] redis_password_env: an environment variable holding the Redis password (wins
  /// over the URL's); empty = none.
  std::string cluster_redis_password_env;
  std::string cluster_redis_tls_ca_file;      ///< [cluster] PEM CA bundle; empty = system store
  std::string cluster_redis_tls_cert_file;    ///< [cluster] client certificate (PEM); empty = none
  std::string cluster_redis_tls_key_file;     ///< [cluster] its private key (PEM)
  std::string cluster_redis_tls_server_name;  ///< [cluster] certificate name / SNI; empty = host
  /// All of the above as the Redis layer takes it (password read), built by
  /// parse_command_line when cluster_redis is set.
  cluster::redis::options cluster_redis_options;
  /// [cluster] queue_claim_ms: a /queue/ message a node took and has not renewed for this long
  /// (the node died) is claimed by another node and redelivered.
  std::chrono::milliseconds cluster_queue_claim{30'000};
  /// [cluster] min_replicas: > 0, a durable SEND (user queue, clustered /queue/) is receipted
  /// only once that many Redis replicas confirmed it (WAIT); fewer in time = ERROR. 0 = no WAIT.
  std::size_t cluster_min_replicas = 0;
  /// [cluster] min_replicas_timeout_ms: how long that WAIT may take.
  std::chrono::milliseconds cluster_min_replicas_timeout{1000};
  bool ws_host_given = false;          ///< websocket.host or --ws was given (development mode)
  bool tcp_host_given = false;         ///< tcp.host or --tcp was given (development mode)
};

/// A bad config file or flag value (start-up only).
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads a TOML config file into `out` (keys missing from the file keep their value). Throws
/// config_error for a parse error, an unknown key or a value of the wrong type or range.
void load_config_file(const std::string& path, settings& out);

/// Parses the command line: reads --config first, then applies the flags over it. Returns an
/// exit code when the program should stop now (--help, --version, a bad flag), else nothing.
std::optional<int> parse_command_line(int argc, char** argv, settings& out);

/// "HOST:PORT" (or "[v6]:PORT") into its parts. Throws config_error.
void split_host_port(const std::string& text, std::string& host, std::uint16_t& port);

}  // namespace app
