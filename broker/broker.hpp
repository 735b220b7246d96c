#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"
#include "broker/byte_budget.hpp"
#include "broker/cluster.hpp"
#include "broker/connection.hpp"
#include "broker/history.hpp"
#include "broker/message.hpp"
#include "broker/session.hpp"
#include "broker/stats.hpp"
#include "broker/summary.hpp"
#include "broker/version.hpp"
#include "stomp/frame.hpp"
#include "stomp/parser.hpp"

namespace broker {

namespace store {
class store;
}

/// Every broker-level setting, with its default. Transport-level ones (ports, TLS, pending-bytes
/// cap, timeouts) live in transport::server_config.
struct config {
  std::string server = std::string("stompbox/") + version();  ///< CONNECTED `server` header
  stomp::limits frame_limits;             ///< after CONNECT (4 MiB frames)
  stomp::limits pre_connect_limits = stomp::pre_connect_limits();  ///< before CONNECT (64 KiB)
  /// Heart-beats we offer in CONNECTED: we can send every `heartbeat_send`, want to receive
  /// every `heartbeat_receive`. Zero disables.
  std::chrono::milliseconds heartbeat_send{10'000};
  std::chrono::milliseconds heartbeat_receive{10'000};
  /// A client asking for heart-beats (CONNECT `heart-beat:cx,cy`) gets the intervals it asks
  /// for, in both directions, but never faster than this (stomp::offer_heart_beat). Intervals
  /// configured above stay what a client asking nothing is offered.
  std::chrono::milliseconds heartbeat_min{1'000};
  /// A peer silent for this many negotiated intervals is disconnected (browsers throttle timers
  /// in background tabs; Spring uses 3).
  double heartbeat_tolerance = 3.0;
  /// Server-wide budget for the bytes peers make the broker hold (see byte_budget): messages in
  /// queues and transactions, partial frames, request bodies. Past it publishers are paused or
  /// refused; bytes already accepted are kept. 0 = unlimited.
  std::size_t max_held_bytes = std::size_t{1} << 30;
  std::size_t queue_max_messages = 100'000;     ///< messages waiting in one /queue/ without consumer
  /// Bytes (held_size) waiting in one /queue/, bounded like queue_max_messages (flow control,
  /// then queue_full at twice it); a message alone always fits. At least one frame. 0 = none.
  std::size_t queue_max_bytes = 64 * 1024 * 1024;
  /// Publisher flow control: a SEND filling a /queue/ to queue_max_messages (or a session's
  /// durable SENDs reaching max_stores_in_flight) pauses reading from that publisher instead of
  /// ERROR "queue full". false: the ERROR and close, as before.
  bool flow_control = true;
  std::size_t max_stores_in_flight = 1'000;  ///< durable SENDs of one session awaiting the store
  std::size_t max_subscriptions_per_session = 1'000;
  std::size_t max_transaction_frames = 10'000;  ///< SENDs and ACKs held by one open transaction
  /// Bytes (held_size) of the frames held by one open transaction; over it: ERROR
  /// "transaction too large". At least one frame. 0 = none.
  std::size_t max_transaction_bytes = 16 * 1024 * 1024;
  /// Transactions one session may hold open at once; one more BEGIN: ERROR "too many
  /// transactions". 0 = none.
  std::size_t max_transactions_per_session = 16;
  /// Bytes one session holds across its open transactions and its durable SENDs awaiting the
  /// store. A transaction frame over it: ERROR "session holds too much"; a durable SEND reaching
  /// it pauses reading until stores settle (flow_control), else the same ERROR. At least one
  /// frame. 0 = none.
  std::size_t max_session_held_bytes = 64 * 1024 * 1024;
  /// Sessions one user (principal name) may hold at once; one more gets ERROR "too many
  /// connections" at CONNECT. Anonymous sessions are not counted. 0 = unlimited.
  std::size_t max_connections_per_user = 100;
  /// SEND frames a session may send per second on average (token bucket), and how many in a
  /// burst; over it see send_rate_slows. 0 = unlimited. High enough for a backend's publisher
  /// session (Spring's relay sends everything over one system session); lower it for
  /// browser-only deployments.
  double send_rate = 10'000;
  double send_burst = 20'000;  ///< bucket size (at least 1)
  /// Over send_rate: true slows the session (its reads pause until the bucket has refilled, as
  /// RabbitMQ's flow control does; heart-beats go on); false: ERROR "send rate exceeded", then
  /// close. TOML `[limits] send_rate_policy = "slow" | "disconnect"`.
  bool send_rate_slows = true;
  /// Who may log in; null means development mode: any CONNECT is accepted, its `login` is the
  /// user name (empty = anonymous) and the principal has roles {"user", "publisher"}, so a
  /// developer can subscribe to /user/queue/x and publish to anyone's /user/{name}/... at once.
  std::shared_ptr<const auth::authenticator> authenticator;
  /// Threads checking passwords (the authenticator's slow() logins: PBKDF2) off the I/O threads,
  /// started with the first such login. At least 1.
  std::size_t verify_threads = 1;
  /// Password checks waiting for those threads; past it a CONNECT gets ERROR "server busy" and
  /// the publish API 503. At least 1.
  std::size_t verify_queue = 1000;
  /// Sender stamping: every MESSAGE of a client's SEND (topics, queues, user destinations,
  /// transactions; the publish API too) carries `sender_header` set by the broker to the
  /// authenticated sender's name, replacing whatever header of that name the client set; an
  /// anonymous sender's messages carry none. Off: the header passes through as sent. Off by
  /// default: a user name may be private. TOML `[messages] stamp_sender`, `sender_header`.
  bool stamp_sender = false;
  /// The header stamp_sender sets. "user-name": the header CONNECTED already names the user in.
  std::string sender_header = "user-name";
  /// Who may subscribe or send where; null means auth::rules_authorizer with auth::default_acl().
  /// User destinations reach it resolved: "/user/{owner}/queue/x".
  std::shared_ptr<const auth::authorizer> authorizer;
  /// Where durable user-queue messages live (e.g. store::sqlite_store on --data-dir); null means
  /// an in-memory SQLite store: same behaviour, lost at exit. Shared: it may outlive the broker.
  std::shared_ptr<::broker::store::store> store;
  std::size_t user_queue_max_messages = 1000;  ///< per user queue; over it the oldest is dropped
  std::chrono::milliseconds user_queue_max_age = std::chrono::hours{24 * 7};  ///< 0 = forever
  /// User-queue messages handed to one subscription's connection and not yet written: its
  /// stored backlog and its live messages are paced by it, the rest waits in the store (so a
  /// slow reader is fed as fast as it reads and never cut by its own backlog). At least 1.
  std::size_t delivery_window = 64;
  /// The same window in bytes; a message alone always fits, whatever its size.
  std::size_t delivery_window_bytes = 1024 * 1024;
  /// How long an Idempotency-Key of the publish API is remembered, and how many keys at most.
  std::chrono::milliseconds idempotency_window = std::chrono::minutes{10};
  std::size_t idempotency_max_keys = 100'000;
  /// Topic history (TOML `[[history]]`, repeatable): concrete /topic/ destinations matching a
  /// rule's pattern (the first that matches) keep their last messages; their MESSAGEs carry
  /// `x-position:EPOCH:OFFSET` and a SUBSCRIBE with `x-recover-from` gets what it missed (see
  /// detail::history_gate). Empty (default): nothing kept, no x-position, today's cost.
  std::vector<history_rule> history;
  /// A recovering SUBSCRIBE of a shared history (a cluster) holds the live messages that arrive
  /// while the history is read, at most this many bytes (charged to max_held_bytes too); past
  /// it the recovery is answered x-recovered:false (TOML `[limits] max_recovery_held_bytes`).
  std::size_t max_recovery_held_bytes = 4 * 1024 * 1024;
  /// Where that history lives; null = broker::memory_history over `history` (lost at exit).
  std::shared_ptr<::broker::history> history_store;
  /// The wall clock for credential expiry and idempotency; null = system_clock (tests inject).
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Outcome of api_publish, one per HTTP status the endpoint answers with.
enum class publish_status {
  accepted,      ///< 202: routed (topics, queues) or durably stored (user queues)
  bad_request,   ///< 400: no/invalid destination, wildcard, bad header or `expires`
  unauthorized,  ///< 401: the credentials were refused ("access refused", no reason given)
  forbidden,     ///< 403: the authorizer refused sending there (other users' destinations
                 ///<      need role `publisher` under the default rules)
  too_large,     ///< 413: body over config::frame_limits.max_body
  key_reused,    ///< 422: the Idempotency-Key was used for a different request (nothing sent)
  unavailable,   ///< 503: queue full or the store failed; retry later (same Idempotency-Key)
};

/// Short stable name ("accepted", "bad_request", ...) for logs.
const char* to_string(publish_status s) noexcept;

/// One publish API request (the transport fills it from `POST /api/v1/publish`).
struct publish_request {
  std::string destination;              ///< as a SEND's, e.g. "/user/alice/queue/notifications"
  std::vector<stomp::header> headers;   ///< extra MESSAGE headers (content-type, expires, ...)
  std::string body;
};

/// What api_publish answers.
struct publish_result {
  publish_status status = publish_status::accepted;
  std::string message_id;  ///< set when accepted; the same for a retried Idempotency-Key
  std::string error;       ///< short human text when not accepted
};

/// Credentials of a publish API caller (login/passcode from Basic auth, or a bearer token).
using credentials = auth::credentials;

/// The broker: sessions, destinations, routing. Owns no sockets; its threads are the store's
/// writer and the password-check threads (config::verify_threads). Every member is thread-safe.
/// Outlives every session it opened.
class broker {
 public:
  explicit broker(config cfg);
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  /// A new session talking through `conn` (the session keeps only a weak reference to it).
  std::shared_ptr<session> open_session(std::shared_ptr<connection> conn);

  /// Publishes as an application would with SEND, from any thread. `frame` is a SEND frame
  /// (destination required). Returns the message id, or an empty string when refused (unknown
  /// destination prefix).
  /// User queues, and /queue/ destinations in a cluster (the shared queue in Redis), are stored
  /// asynchronously: a store failure or a full clustered queue is only logged and counted (use
  /// api_publish to learn the outcome).
  std::string publish(stomp::frame send);

  /// Publishes to every session of `user` subscribed to `/user` + `destination_suffix`
  /// (e.g. "/queue/notifications": durable; "/topic/x": live only), as Spring's
  /// convertAndSendToUser. No authorisation: this is the embedding application speaking. Any
  /// thread. Returns the message id, or empty when refused (bad suffix or user name).
  std::string publish_to_user(std::string_view user, std::string_view destination_suffix,
                              std::string body, std::vector<stomp::header> headers = {});

  /// The publish API (`POST /api/v1/publish`): authenticates `who` (config::authenticator;
  /// development mode accepts anyone as `login`), checks size, destination, headers and the
  /// authorizer (action send), then publishes. `done` runs exactly once: at once for a refusal
  /// or a topic/queue, after the durable commit for a user queue (then on the store's thread:
  /// keep it short, post to your own strand). A non-empty `idempotency_key` (scoped to the
  /// authenticated user) publishes once within config::idempotency_window: a retry gets the
  /// first message id (and waits for the first attempt if it is still being stored); a failed
  /// attempt is forgotten so a retry publishes again; the key with a different request
  /// (destination, headers or body) gets key_reused and publishes nothing. Thread-safe; never blocks: a password
  /// check (one PBKDF2 run) runs on the broker's login threads and `done` then runs there;
  /// when their queue is full, `done` gets unavailable ("server busy") at once.
  void api_publish(const credentials& who, publish_request request, std::string idempotency_key,
                   std::function<void(publish_result)> done);

  /// Periodic work; call about once a second from any thread (the broker owns no timers).
  /// Closes sessions whose credentials expired (ERROR "token expired", close_reason::auth_failed)
  /// drops expired messages waiting in queues, and lets sessions paused by max_held_bytes check
  /// whether they may read again (resumed once it is back under 90%).
  void tick();

  /// Stops the password-check threads: drops the checks not started, waits for those running.
  /// Call before destroying the io_context the connections run on: a check finishing later
  /// posts its answer to a connection's strand, which must still exist. Later logins that need
  /// a check are answered "server busy". Idempotent; the destructor calls it too.
  void stop_logins();

  /// Blocks until every durable append submitted so far is committed and its RECEIPT posted.
  /// For tests and shutdown; never from a connection's strand.
  void flush();

  /// Joins a cluster: `link` hears what local sessions subscribe to and every message routed
  /// here (see broker/cluster.hpp). Call once, before the first session opens; the broker keeps
  /// it until detached with null (only once no other thread uses the broker: at shutdown).
  void attach_cluster(std::shared_ptr<cluster_link> link);

  /// A message another node routed, for this node's sessions only (never published again):
  /// a topic message goes to the subscribers of exactly its topic when `pattern` is empty, else
  /// to the wildcard subscriptions spelled `pattern` (the one it arrived through); a user
  /// destination's to the owner's subscribed sessions, `seq` = its store seq (user queues) or 0.
  /// `/queue/` messages are ignored (see deliver_remote_queued). Any thread.
  void deliver_remote(const message_ptr& m, std::uint64_t seq, std::string_view pattern = {});

  /// A /queue/ message the cluster link took from the shared queue for this node's consumers
  /// (`m->cluster_ref` set): into the local queue, which settles it with the link. Any thread.
  void deliver_remote_queued(const message_ptr& m);

  /// How many messages the local consumers of /queue/ `name` can take now (0: none, or no
  /// consumer); the cluster link takes at most that many. Any thread.
  std::size_t queue_room(const std::string& name);

  /// The shared queue `name` drained to its low watermark (cluster_link::watch_room): the
  /// publishers paused on it resume. Any thread.
  void shared_queue_room(const std::string& name);

  /// For /readyz: the durable store is writable and the cluster link (if any) is ready.
  /// Thread-safe.
  bool ready() const;

  /// The cluster link's Prometheus text for /metrics; empty without a cluster. Thread-safe.
  std::string cluster_metrics() const;

  /// The server-wide budget of held bytes (config::max_held_bytes), shared with the transport
  /// for what it buffers. Thread-safe; lives as long as the broker.
  byte_budget& held() noexcept;
  const byte_budget& held() const noexcept;

  /// Live counters for metrics. Thread-safe; lives as long as the broker.
  const ::broker::stats& stats() const noexcept;

  const config& settings() const noexcept;

  // The operator's console (transport/console): read-only views and two admin actions.

  /// Topics with local subscribers, wildcard patterns and queues; the first `max` by
  /// subscribers, and the total. Thread-safe; takes the registry's shared lock briefly.
  destination_list destinations(std::size_t max) const;

  /// Called once with the user inboxes (or an error: store::error::not_supported on a store
  /// that cannot list its queues).
  using inbox_handler = std::function<void(std::vector<inbox_summary>, std::error_code)>;

  /// The stored messages of each user, most first, at most `max` users. `done` runs once,
  /// inline (SQLite: one grouped read) or on the store's thread (Redis). Thread-safe.
  void inboxes(std::size_t max, inbox_handler done) const;

  /// Called once with how many messages a purge removed, and the error that stopped it.
  using purge_handler = std::function<void(std::uint64_t removed, std::error_code)>;

  /// Removes every stored message of `user` (all their /user/{user}/queue/ queues). `done`
  /// runs once, inline or on the store's thread. Thread-safe.
  void purge_inbox(std::string user, purge_handler done);

  /// Who `who` is, by the same authenticator as CONNECT and the publish API (development mode:
  /// anyone, as `login`, without role "admin"). `done` runs once: inline, or on the login
  /// threads for a password check (nullopt with "server busy" logged when they are full).
  /// Failures are counted and logged as the publish API's are. Thread-safe; never blocks.
  void authenticate(const credentials& who,
                    std::function<void(std::optional<auth::principal>)> done) const;

  /// The durable store in use (config::store, or the in-memory one), for metrics (its stats())
  /// and /readyz (its writable()). Thread-safe; lives as long as the broker.
  const ::broker::store::store& durable_store() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace broker
