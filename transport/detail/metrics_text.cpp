#include "transport/detail/metrics_text.hpp"

#include <chrono>
#include <iterator>
#include <type_traits>

#include <fmt/format.h>

#include "broker/broker.hpp"

namespace transport::detail {

namespace {

constexpr std::array<const char*, broker::stats::client_commands> client_names{
    "CONNECT", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
    "BEGIN",   "COMMIT", "ABORT",   "DISCONNECT",  "other"};
constexpr std::array<const char*, broker::stats::server_commands> server_names{
    "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"};

template <class T>
std::uint64_t load(const std::atomic<T>& a) noexcept {
  const T v = a.load(std::memory_order_relaxed);
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) return 0;
  }
  return static_cast<std::uint64_t>(v);
}

/// Appends one family: HELP, TYPE, then its samples.
class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  void family(const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(out_), "# HELP stompbox_{} {}\n# TYPE stompbox_{} {}\n",
                   name, help, name, type);
  }
  template <class V>
  void sample(const char* name, V value) {
    fmt::format_to(std::back_inserter(out_), "stompbox_{} {}\n", name, value);
  }
  template <class V>
  void sample(const char* name, const char* label, const char* label_value, V value) {
    fmt::format_to(std::back_inserter(out_), "stompbox_{}{{{}=\"{}\"}} {}\n", name, label,
                   label_value, value);
  }
  /// A family with one sample per element of `values`, labelled `label` = label_of(index).
  template <class Values, class LabelOf>
  void labelled(const char* name, const char* type, const char* help, const char* label,
                const Values& values, LabelOf label_of) {
    family(name, type, help);
    for (std::size_t i = 0; i < values.size(); ++i) sample(name, label, label_of(i), values[i]);
  }
  template <class V>
  void single(const char* name, const char* type, const char* help, V value) {
    family(name, type, help);
    sample(name, value);
  }

 private:
  std::string& out_;
};

void render_transport(writer& w, const metrics_snapshot& s) {
  // Constant 1 with the version as a label: dashboards show it, alerts join on it.
  w.family("build_info", "gauge", "Always 1; the version in a label.");
  w.sample("build_info", "version", transport::version(), 1);
  w.single("ready", "gauge", "1 when /readyz answers 200 (accepting, store writable, cluster up).",
           s.ready ? 1 : 0);
  w.labelled("connections", "gauge", "Open STOMP connections by transport.", "transport",
             s.connections, [](std::size_t i) { return transport_names[i]; });
  w.single("connections_limit", "gauge",
           "limits.max_connections: open sockets allowed on both listeners (0 = none).",
           s.connections_limit);
  w.single("connections_accepted_total", "counter", "Sockets accepted on the STOMP listeners.",
           s.accepted);
  w.labelled("connections_refused_total", "counter", "Connections refused, by reason.", "reason",
             s.refused, [](std::size_t i) { return to_string(static_cast<refusal>(i)); });
  w.sample("connections_refused_total", "reason", "max_connections_per_user",
           s.refused_user_limit);
  w.single("slow_consumer_disconnects_total", "counter",
           "Connections closed because their unwritten bytes passed max_pending_bytes.",
           s.slow_consumers);
  w.single("dropped_frames_total", "counter", "Frames discarded by the drop_oldest policy.",
           s.dropped_frames);
}

void render_sessions(writer& w, const metrics_snapshot& s) {
  w.single("sessions", "gauge", "STOMP sessions open now.", s.sessions);
  w.single("sessions_opened_total", "counter", "STOMP sessions opened.", s.sessions_opened);
  w.single("subscriptions", "gauge", "Active subscriptions.", s.subscriptions);
  w.labelled("frames_in_total", "counter", "Client frames received, by command.", "command",
             s.frames_in, [](std::size_t i) { return client_names[i]; });
  w.labelled("frames_out_total", "counter", "Server frames sent, by command.", "command",
             s.frames_out, [](std::size_t i) { return server_names[i]; });
  w.labelled("session_closes_total", "counter", "Sessions ended, by close reason.", "reason",
             s.closes, [](std::size_t i) {
               return broker::to_string(static_cast<broker::close_reason>(i));
             });
  w.single("heartbeat_disconnects_total", "counter",
           "Sessions closed because the peer's heart-beats stopped.",
           s.closes[static_cast<std::size_t>(broker::close_reason::heartbeat_timeout)]);
  w.single("auth_failures_total", "counter", "Failed logins (CONNECT and publish API).",
           s.auth_failures);
  w.single("forbidden_total", "counter", "SUBSCRIBE/SEND/publish refused by the ACL.",
           s.forbidden);
  w.single("tokens_expired_total", "counter", "Sessions closed when their token expired.",
           s.tokens_expired);
  w.single("send_rate_exceeded_total", "counter", "Sessions closed for SENDs over send_rate.",
           s.send_rate_exceeded);
  w.single("paused_publishers", "gauge",
           "Sessions not read from now: flow control (full queue or store backlog).",
           s.paused_publishers);
  w.single("publisher_pauses_total", "counter", "Times flow control paused reading a session.",
           s.publisher_pauses);
  w.single("held_bytes", "gauge",
           "Message bytes held for peers: queues, transactions, unstored SENDs, partial frames.",
           s.held_bytes);
  w.single("held_bytes_limit", "gauge", "limits.max_held_bytes (0 = none).", s.held_bytes_limit);
  w.single("budget_pauses_total", "counter",
           "Times a publisher was paused because held bytes passed limits.max_held_bytes.",
           s.budget_pauses);
}

void render_messages(writer& w, const metrics_snapshot& s) {
  w.single("messages_published_total", "counter", "Messages accepted for routing.", s.published);
  w.single("messages_delivered_total", "counter", "MESSAGE frames handed to connections.",
           s.delivered);
  w.single("messages_dropped_total", "counter", "Messages refused: full queue or store failure.",
           s.dropped);
  w.single("messages_expired_total", "counter", "Messages dropped after their expires time.",
           s.expired);
  w.single("messages_stored_total", "counter", "Durable user-queue messages committed.",
           s.stored);
}

void render_store(writer& w, const metrics_snapshot& s) {
  const auto& st = s.store;
  w.single("store_appends_total", "counter", "Store appends committed.", st.appended);
  w.single("store_append_failures_total", "counter", "Store appends that failed.",
           st.append_failures);
  w.single("store_removed_total", "counter", "Stored messages deleted (acked).", st.removed);
  w.single("store_cancelled_total", "counter",
           "Appends acked before their commit: neither the message nor its delete was written.",
           st.cancelled);
  w.family("store_dropped_total", "counter", "Stored messages dropped by retention, by reason.");
  w.sample("store_dropped_total", "reason", "overflow", st.dropped_overflow);
  w.sample("store_dropped_total", "reason", "expired", st.dropped_expired);
  w.single("store_commits_total", "counter", "Store transactions committed (group commit).",
           st.commit_batches);
  w.single("store_failed_commits_total", "counter", "Store transactions rolled back.",
           st.failed_batches);
  const std::chrono::duration<double> latency = st.last_commit_latency;
  w.single("store_commit_latency_seconds", "gauge",
           "Duration of the last store commit, BEGIN to COMMIT (fsync included).",
           latency.count());
  w.single("store_writable", "gauge", "1 when the last store commit succeeded.",
           s.store_writable ? 1 : 0);
}

}  // namespace

metrics_snapshot take_snapshot(const stats& t, const broker::broker& b) {
  metrics_snapshot s;
  for (std::size_t i = 0; i < s.connections.size(); ++i)
    s.connections[i] = t.open_by_transport[i].load(std::memory_order_relaxed);
  s.accepted = load(t.accepted);
  for (std::size_t i = 0; i < s.refused.size(); ++i) s.refused[i] = load(t.refused[i]);
  s.slow_consumers = load(t.slow_consumers);
  s.dropped_frames = load(t.dropped_frames);
  const auto& bs = b.stats();
  s.refused_user_limit = load(bs.user_limit_refused);
  s.sessions = bs.sessions.load(std::memory_order_relaxed);
  s.sessions_opened = load(bs.sessions_opened);
  s.subscriptions = bs.subscriptions.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < s.frames_in.size(); ++i) s.frames_in[i] = load(bs.frames_in[i]);
  for (std::size_t i = 0; i < s.frames_out.size(); ++i) s.frames_out[i] = load(bs.frames_out[i]);
  s.published = load(bs.messages_published);
  s.delivered = load(bs.messages_delivered);
  s.dropped = load(bs.messages_dropped);
  s.expired = load(bs.messages_expired);
  s.stored = load(bs.messages_stored);
  s.auth_failures = load(bs.auth_failures);
  s.forbidden = load(bs.forbidden);
  s.tokens_expired = load(bs.tokens_expired);
  s.send_rate_exceeded = load(bs.send_rate_exceeded);
  s.paused_publishers = bs.paused_publishers.load(std::memory_order_relaxed);
  s.publisher_pauses = load(bs.publisher_pauses);
  s.held_bytes = b.held().used();
  s.held_bytes_limit = b.held().limit();
  s.budget_pauses = load(bs.budget_pauses);
  for (std::size_t i = 0; i < s.closes.size(); ++i) s.closes[i] = load(bs.closes[i]);
  s.store = b.durable_store().stats();
  s.store_writable = b.durable_store().writable();
  return s;
}

std::string render_metrics(const metrics_snapshot& s) {
  std::string out;
  out.reserve(8 * 1024);
  writer w(out);
  render_transport(w, s);
  render_sessions(w, s);
  render_messages(w, s);
  render_store(w, s);
  return out;
}

}  // namespace transport::detail
