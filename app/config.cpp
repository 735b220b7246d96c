#include "app/config.hpp"
#include "app/config_hardening.hpp"
#include "app/config_history.hpp"
#include "broker/message.hpp"
#include "app/config_proxies.hpp"
#include "app/config_cluster.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <map>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

namespace app {

namespace {

using ms = std::chrono::milliseconds;

// Every key the file may hold, by table: a typo is an error, not a silently ignored setting.
const std::map<std::string, std::set<std::string>>& known_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"server", {"name", "threads"}},
      {"websocket", {"enabled", "host", "port", "path", "token_cookie", "max_handshake_bytes",
                     "max_message_bytes", "frames_per_message", "allowed_origins",
                     "proxy_protocol"}},
      {"tcp", {"enabled", "host", "port", "read_chunk_bytes", "proxy_protocol"}},
      {"proxies", {"trusted"}},
      {"tls", {"cert", "key"}},
      {"limits", {"max_command_bytes", "max_header_line_bytes", "max_headers", "max_body_bytes",
                  "max_frame_bytes", "pre_connect", "max_subscriptions_per_session",
                  "max_transaction_frames", "listen_backlog", "max_connections",
                  "max_connections_per_ip", "max_connections_per_user", "send_rate",
                  "send_burst", "send_rate_policy", "flow_control", "max_stores_in_flight", "max_held_bytes",
                  "max_transaction_bytes", "max_transactions_per_session",
                  "max_session_held_bytes", "max_recovery_held_bytes"}},
      {"limits.pre_connect", {"max_command_bytes", "max_header_line_bytes", "max_headers",
                              "max_body_bytes", "max_frame_bytes"}},
      {"timeouts", {"handshake_ms", "connect_ms", "close_ms"}},
      {"heartbeat", {"send_ms", "receive_ms", "min_ms", "tolerance"}},
      {"queues", {"max_messages", "max_bytes", "max_pending_bytes", "slow_consumer_policy"}},
      {"sockjs", {"enabled", "path", "heartbeat_ms", "session_timeout_ms", "max_buffered_bytes",
                  "stream_bytes_limit"}},
      {"log", {"level", "format"}},
      {"metrics", {"enabled", "host", "port"}},
      {"store", {"data_dir", "user_queue_max_messages", "user_queue_max_age_seconds",
                 "idempotency_window_seconds", "idempotency_max_keys", "delivery_window",
                 "delivery_window_bytes", "commit_delay_us"}},
      {"api", {"enabled", "path", "max_body_bytes"}},
      {"cluster", {"redis", "queue_claim_ms", "redis_password_file", "redis_password_env",
                   "redis_tls_ca_file", "redis_tls_cert_file", "redis_tls_key_file",
                   "redis_tls_server_name", "min_replicas", "min_replicas_timeout_ms"}},
      {"messages", {"stamp_sender", "sender_header"}},
  };
  return keys;
}

// Tables read (and checked for typos) by auth/'s own loaders.
bool is_auth_table(const std::string& name) {
  return name == "auth" || name == "jwt" || name == "acl";
}

// Arrays of tables read (and checked for typos) by their own readers.
bool is_table_array(const std::string& name) { return name == "history"; }

void check_keys(const toml::table& table, const std::string& prefix) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (prefix.empty() && (is_auth_table(name) || is_table_array(name))) continue;
    if (prefix.empty() || node.is_table()) {
      if (!node.is_table() || !known_keys().contains(full))
        throw config_error("unknown table [" + full + "]");
      check_keys(*node.as_table(), full);
    } else if (!known_keys().at(prefix).contains(name)) {
      throw config_error("unknown key '" + name + "' in [" + prefix + "]");
    }
  }
}

/// Reads one value if present; throws on a wrong type.
template <class T>
void read(const toml::table& root, const char* path, T& out) {
  const auto node = root.at_path(path);
  if (!node) return;
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = node.value<std::string>();
    if (!v) throw config_error(std::string(path) + ": expected a string");
    out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    auto v = node.value<bool>();
    if (!v) throw config_error(std::string(path) + ": expected true or false");
    out = *v;
  } else if constexpr (std::is_same_v<T, double>) {
    auto v = node.value<double>();
    if (!v) throw config_error(std::string(path) + ": expected a number");
    out = *v;
  } else if constexpr (std::is_same_v<T, ms>) {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 0) throw config_error(std::string(path) + ": expected milliseconds >= 0");
    out = ms(*v);
  } else if constexpr (std::is_same_v<T, std::chrono::seconds>) {
    auto v = node.value<std::int64_t>();
    // A year at most: more would overflow nothing but is surely a unit mistake (ms for s).
    if (!v || *v < 0 || *v > 366LL * 24 * 3600)
      throw config_error(std::string(path) + ": expected seconds in [0, 31622400]");
    out = std::chrono::seconds(*v);
  } else {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
      throw config_error(std::string(path) + ": expected an integer in range");
    out = static_cast<T>(*v);
  }
}

void read_limits(const toml::table& root, const std::string& table, stomp::limits& l) {
  read(root, (table + ".max_command_bytes").c_str(), l.max_command);
  read(root, (table + ".max_header_line_bytes").c_str(), l.max_header_line);
  read(root, (table + ".max_headers").c_str(), l.max_headers);
  read(root, (table + ".max_body_bytes").c_str(), l.max_body);
  read(root, (table + ".max_frame_bytes").c_str(), l.max_frame);
}

transport::slow_consumer_policy parse_policy(const std::string& text) {
  if (text == "disconnect") return transport::slow_consumer_policy::disconnect;
  if (text == "drop_oldest") return transport::slow_consumer_policy::drop_oldest;
  throw config_error("queues.slow_consumer_policy: expected disconnect or drop_oldest, got '" +
                     text + "'");
}

void read_transport(const toml::table& root, transport::server_config& s) {
  read(root, "websocket.enabled", s.ws_enabled);
  read(root, "websocket.host", s.ws_host);
  read(root, "websocket.port", s.ws_port);
  read(root, "websocket.path", s.ws_path);
  read(root, "websocket.token_cookie", s.token_cookie);
  read(root, "websocket.max_handshake_bytes", s.max_handshake_bytes);
  read(root, "websocket.max_message_bytes", s.max_message_bytes);
  read(root, "websocket.frames_per_message", s.ws_frames_per_message);
  read(root, "tcp.enabled", s.tcp_enabled);
  read(root, "tcp.host", s.tcp_host);
  read(root, "tcp.port", s.tcp_port);
  read(root, "tcp.read_chunk_bytes", s.tcp_read_chunk);
  read(root, "tls.cert", s.tls_cert);
  read(root, "tls.key", s.tls_key);
  read(root, "timeouts.handshake_ms", s.handshake_timeout);
  read(root, "timeouts.connect_ms", s.connect_timeout);
  read(root, "timeouts.close_ms", s.close_timeout);
  read(root, "queues.max_pending_bytes", s.max_pending_bytes);
  read(root, "api.enabled", s.api_enabled);
  read(root, "api.path", s.api_path);
  read(root, "api.max_body_bytes", s.api_max_body_bytes);
  read(root, "limits.listen_backlog", s.listen_backlog);
  read(root, "sockjs.enabled", s.sockjs_enabled);
  read(root, "sockjs.path", s.sockjs_path);
  read(root, "sockjs.heartbeat_ms", s.sockjs_heartbeat);
  read(root, "sockjs.session_timeout_ms", s.sockjs_session_timeout);
  read(root, "sockjs.max_buffered_bytes", s.sockjs_max_buffered_bytes);
  read(root, "sockjs.stream_bytes_limit", s.sockjs_stream_bytes_limit);
  std::string policy;
  read(root, "queues.slow_consumer_policy", policy);
  if (!policy.empty()) s.slow_consumer = parse_policy(policy);
}

/// A duration written in whole seconds into a millisecond setting.
void read_seconds(const toml::table& root, const char* path, ms& out) {
  std::chrono::seconds value{-1};
  read(root, path, value);
  if (value.count() >= 0) out = value;
}

void read_broker(const toml::table& root, broker::config& b) {
  read(root, "server.name", b.server);
  read_limits(root, "limits", b.frame_limits);
  read_limits(root, "limits.pre_connect", b.pre_connect_limits);
  read(root, "limits.max_subscriptions_per_session", b.max_subscriptions_per_session);
  read(root, "limits.max_transaction_frames", b.max_transaction_frames);
  read(root, "heartbeat.send_ms", b.heartbeat_send);
  read(root, "heartbeat.receive_ms", b.heartbeat_receive);
  read(root, "heartbeat.min_ms", b.heartbeat_min);
  // A client could otherwise ask for a heart-beat every millisecond.
  if (b.heartbeat_min < std::chrono::milliseconds(1)) {
    throw config_error("heartbeat.min_ms: expected at least 1");
  }
  read(root, "heartbeat.tolerance", b.heartbeat_tolerance);
  read(root, "queues.max_messages", b.queue_max_messages);
  read(root, "queues.max_bytes", b.queue_max_bytes);
  read(root, "limits.max_transaction_bytes", b.max_transaction_bytes);
  read(root, "limits.max_transactions_per_session", b.max_transactions_per_session);
  read(root, "limits.max_session_held_bytes", b.max_session_held_bytes);
  read(root, "limits.max_recovery_held_bytes", b.max_recovery_held_bytes);
  read(root, "limits.flow_control", b.flow_control);
  read(root, "limits.max_stores_in_flight", b.max_stores_in_flight);
  read(root, "limits.max_held_bytes", b.max_held_bytes);
  read(root, "store.user_queue_max_messages", b.user_queue_max_messages);
  read(root, "store.idempotency_max_keys", b.idempotency_max_keys);
  read(root, "store.delivery_window", b.delivery_window);
  read(root, "store.delivery_window_bytes", b.delivery_window_bytes);
  read_seconds(root, "store.user_queue_max_age_seconds", b.user_queue_max_age);
  read_seconds(root, "store.idempotency_window_seconds", b.idempotency_window);
  read(root, "messages.stamp_sender", b.stamp_sender);
  read(root, "messages.sender_header", b.sender_header);
  if (!broker::valid_sender_header(b.sender_header)) {
    throw config_error("messages.sender_header: expected a header name of letters, digits, '-', "
                       "'_' or '.' that the broker does not set itself, got '" +
                       b.sender_header + "'");
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// [auth], [jwt] and [[acl]]: auth/'s loaders check their own keys; relative file names resolve
// against the config file's directory.
void read_auth(const std::string& text, const std::string& path, settings& out) {
  const auto base = std::filesystem::path(path).parent_path();
  try {
    out.auth = auth::parse_auth_settings(text, path, base);
    out.jwt = auth::parse_jwt_config(text, path, base);
    out.acl = auth::parse_acl(text, path);
  } catch (const std::exception& e) {
    throw config_error(e.what());
  }
}

}  // namespace

void load_config_file(const std::string& path, settings& out) {
  const std::string text = read_text(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw config_error(path + ": " + std::string(e.description()));
  }
  check_keys(root, "");
  read_transport(root, out.server);
  read_broker(root, out.broker);
  read(root, "server.threads", out.threads);
  read(root, "log.level", out.log_level);
  detail::read_hardening(root, out);
  detail::read_proxies(root, out);
  detail::read_history(root, out);
  read(root, "store.data_dir", out.data_dir);
  read(root, "store.commit_delay_us", out.commit_delay_us);
  if (out.commit_delay_us > 100'000) {
    throw config_error("store.commit_delay_us: expected microseconds in [0, 100000]");
  }
  read(root, "cluster.redis", out.cluster_redis);
  read(root, "cluster.queue_claim_ms", out.cluster_queue_claim);
  read(root, "cluster.redis_password_file", out.cluster_redis_password_file);
  read(root, "cluster.redis_password_env", out.cluster_redis_password_env);
  read(root, "cluster.redis_tls_ca_file", out.cluster_redis_tls_ca_file);
  read(root, "cluster.redis_tls_cert_file", out.cluster_redis_tls_cert_file);
  read(root, "cluster.redis_tls_key_file", out.cluster_redis_tls_key_file);
  read(root, "cluster.redis_tls_server_name", out.cluster_redis_tls_server_name);
  read(root, "cluster.min_replicas", out.cluster_min_replicas);
  read(root, "cluster.min_replicas_timeout_ms", out.cluster_min_replicas_timeout);
  out.ws_host_given = out.ws_host_given || root.at_path("websocket.host");
  out.tcp_host_given = out.tcp_host_given || root.at_path("tcp.host");
  read_auth(text, path, out);
  out.config_file = path;
}

void split_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw config_error("expected HOST:PORT, got '" + text + "'");
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    std::size_t used = 0;
    const auto value = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || value > 65535) throw std::out_of_range("port");
    port = static_cast<std::uint16_t>(value);
  } catch (const std::exception&) {
    throw config_error("bad port in '" + text + "'");
  }
}

std::optional<int> parse_command_line(int argc, char** argv, settings& out) {
  CLI::App cli{"stompbox: a STOMP 1.0/1.1/1.2 broker over WebSocket and TCP"};
  cli.set_version_flag("--version", std::string("stompbox ") + transport::version());
  std::string config_file, ws, ws_path, tcp, tls_cert, tls_key, log_level;
  unsigned threads = 0;
  cli.add_option("--config", config_file, "TOML config file (flags override it)")
      ->check(CLI::ExistingFile);
  auto* ws_opt = cli.add_option("--ws", ws, "WebSocket listener HOST:PORT [0.0.0.0:15674]");
  auto* path_opt = cli.add_option("--ws-path", ws_path, "WebSocket upgrade path [/ws]");
  auto* tcp_opt = cli.add_option("--tcp", tcp, "STOMP over TCP listener HOST:PORT [0.0.0.0:61613]");
  auto* cert_opt = cli.add_option("--tls-cert", tls_cert, "PEM certificate chain: enables TLS");
  auto* key_opt = cli.add_option("--tls-key", tls_key, "PEM private key (with --tls-cert)");
  cert_opt->needs(key_opt);
  key_opt->needs(cert_opt);
  auto* threads_opt = cli.add_option("--threads", threads, "I/O threads [hardware concurrency]")
                          ->check(CLI::Range(1u, 1024u));
  auto* level_opt = cli.add_option("--log-level", log_level, "trace|debug|info|warn|error [info]")
                        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning",
                                               "error", "critical", "off"}));
  std::string metrics, log_format;
  auto* metrics_opt = cli.add_option(
      "--metrics", metrics, "metrics/health listener HOST:PORT [127.0.0.1:15692]; port 0: any");
  auto* format_opt = cli.add_option("--log-format", log_format, "text|json [text]")
                         ->check(CLI::IsMember({"text", "json"}));
  std::string users_file, data_dir;
  auto* users_opt = cli.add_option("--users", users_file,
                                   "users file (TOML, hashes from `stompbox passwd`) [none]")
                        ->check(CLI::ExistingFile);
  auto* data_opt = cli.add_option("--data-dir", data_dir,
                                  "directory of the durable store, or :memory: [./data]");
  std::string cluster_redis;
  auto* cluster_opt = cli.add_option("--cluster-redis", cluster_redis,
                                     "join a cluster over Redis: redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB] or "
                                     "redis-sentinel://H1:P1,H2:P2/MASTER[/DB] [none]");
  std::vector<std::string> allowed_origins;
  auto* origin_opt = cli.add_option("--allowed-origin", allowed_origins,
                                    "Origin a browser page may connect from, e.g. "
                                    "https://app.example (repeatable; replaces "
                                    "websocket.allowed_origins) [same host only]");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (!config_file.empty()) load_config_file(config_file, out);
  if (*ws_opt) split_host_port(ws, out.server.ws_host, out.server.ws_port);
  if (*path_opt) out.server.ws_path = ws_path;
  if (*tcp_opt) split_host_port(tcp, out.server.tcp_host, out.server.tcp_port);
  out.ws_host_given = out.ws_host_given || *ws_opt;
  out.tcp_host_given = out.tcp_host_given || *tcp_opt;
  if (*users_opt) out.auth.users_file = users_file;
  if (*data_opt) out.data_dir = data_dir;
  if (*cluster_opt) out.cluster_redis = cluster_redis;
  if (*cert_opt) out.server.tls_cert = tls_cert;
  if (*key_opt) out.server.tls_key = tls_key;
  if (*threads_opt) out.threads = threads;
  if (*level_opt) out.log_level = log_level;
  if (*metrics_opt) split_host_port(metrics, out.metrics.host, out.metrics.port);
  if (*format_opt) out.log_format = log_format;
  if (*origin_opt) out.server.allowed_origins = allowed_origins;
  if (out.threads == 0) out.threads = std::max(1u, std::thread::hardware_concurrency());
  if (out.server.ws_path.empty() || out.server.ws_path.front() != '/')
    throw config_error("the WebSocket path must start with '/'");
  if (out.server.api_path.empty() || out.server.api_path.front() != '/')
    throw config_error("the publish API path must start with '/'");
  if (out.data_dir.empty()) throw config_error("the data directory must not be empty");
  detail::check_consistency(out);
  if (!out.cluster_redis.empty()) out.cluster_redis_options = detail::make_redis_options(out);
  // Renewals run every third of it, on a one-second tick.
  if (out.cluster_queue_claim < std::chrono::seconds(3))
    throw config_error("[cluster] queue_claim_ms must be at least 3000");
  if (out.cluster_min_replicas > 100)
    throw config_error("[cluster] min_replicas: expected 0 to 100");
  if (out.cluster_min_replicas_timeout < std::chrono::milliseconds(1) ||
      out.cluster_min_replicas_timeout > std::chrono::minutes(1))
    throw config_error("[cluster] min_replicas_timeout_ms: expected 1 to 60000");
  return std::nullopt;
}

}  // namespace app
