#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"

namespace transport {

/// What to do when a connection's pending (queued, unwritten) bytes pass max_pending_bytes.
enum class slow_consumer_policy {
  disconnect,   ///< session::on_slow_consumer() once: ERROR, then close (slow_consumer)
  drop_oldest,  ///< drop the oldest droppable frames not yet being written; disconnect if none
};

/// Every transport-level setting, with its default. Broker-level ones live in broker::config.
struct server_config {
  // WebSocket (RFC 6455) and the small HTTP surface on the same port.
  std::string ws_host = "0.0.0.0";           ///< address the WebSocket listener binds
  std::uint16_t ws_port = 15674;             ///< 0 picks a free port (see server::ws_port)
  bool ws_enabled = true;                    ///< false: no WebSocket listener
  std::string ws_path = "/ws";               ///< path of the WebSocket upgrade
  std::string token_cookie = "stompbox_token";  ///< cookie holding a bearer token
  std::size_t max_handshake_bytes = 8 * 1024;   ///< HTTP request line + headers
  /// Largest WebSocket message read (one STOMP frame of 4 MiB plus headers). Bigger: close 1009.
  std::size_t max_message_bytes = 4 * 1024 * 1024 + 64 * 1024;
  /// Queued STOMP frames sent together in one WebSocket message when a peer is behind (clients
  /// parse messages as a byte stream). 1 = one frame per message, for a client that cannot.
  std::size_t ws_frames_per_message = 64;

  // STOMP over plain TCP.
  std::string tcp_host = "0.0.0.0";  ///< address the TCP listener binds
  std::uint16_t tcp_port = 61613;    ///< 0 picks a free port (see server::tcp_port)
  bool tcp_enabled = true;           ///< false: no TCP listener
  std::size_t tcp_read_chunk = 4 * 1024;  ///< bytes asked for per TCP read

  // TLS for both listeners (wss and STOMP over TLS) when both files are set. TLS 1.2 minimum.
  std::string tls_cert;  ///< PEM certificate chain file; empty: plain
  std::string tls_key;   ///< PEM private key file; empty: plain

  // HTTP publish API on the WebSocket port: POST {api_path}/v1/publish (see docs).
  bool api_enabled = true;         ///< false: no publish API (404 under api_path)
  std::string api_path = "/api";   ///< prefix of the API's URLs
  /// Largest request body read (JSON, so a 4 MiB STOMP body fits); bigger: 413 unread.
  std::size_t api_max_body_bytes = 4 * 1024 * 1024 + 64 * 1024;

  // Timeouts.
  std::chrono::milliseconds handshake_timeout{10'000};  ///< TLS + HTTP request + upgrade
  std::chrono::milliseconds connect_timeout{10'000};    ///< socket open until CONNECTED
  std::chrono::milliseconds close_timeout{5'000};       ///< flush + close handshake, then cut

  // Back-pressure.
  /// Queued unwritten bytes per connection behind the frame being written: one frame of the
  /// default limits.max_frame_bytes, so a reader may fall one whole message behind.
  std::size_t max_pending_bytes = 4 * 1024 * 1024 + 64 * 1024;
  slow_consumer_policy slow_consumer = slow_consumer_policy::disconnect;  ///< past the cap

  int listen_backlog = 1024;  ///< accept backlog of each listener

  // SockJS (https://github.com/sockjs/sockjs-protocol) on the WebSocket port: the same STOMP
  // sessions for clients that cannot keep a WebSocket open (proxies), over HTTP streaming and
  // polling. Strings only: binary STOMP bodies do not cross SockJS faithfully.
  bool sockjs_enabled = true;           ///< false: no SockJS endpoint
  std::string sockjs_path = "/sockjs";  ///< prefix of every SockJS URL
  std::chrono::milliseconds sockjs_heartbeat{25'000};  ///< `h` frame after this long idle
  /// A session with no response attached (a poller that stopped polling) for this long is
  /// closed; its buffered frames are counted as dropped. Also how long an ended session's id
  /// answers with its close frame.
  std::chrono::milliseconds sockjs_session_timeout{5'000};
  /// Frames buffered for a SockJS session between responses; past it the slow_consumer policy
  /// applies, as max_pending_bytes does for a socket.
  std::size_t sockjs_max_buffered_bytes = 4 * 1024 * 1024;
  /// An xhr_streaming or eventsource response ends after this many bytes (the client opens a
  /// new one) so that browsers do not hold a whole session in one response.
  std::size_t sockjs_stream_bytes_limit = 128 * 1024;

  // Admission. Over a limit the peer gets HTTP 503 (WebSocket port) or an ERROR frame
  // `message:too many connections` (TCP port), then close; with TLS just a close.
  std::size_t max_connections = 50'000;      ///< accepted sockets open at once; 0 = unlimited
  std::size_t max_connections_per_ip = 1'000;  ///< from one client address; 0 = unlimited
  /// Origins (e.g. "https://app.example.com") a browser WebSocket or SockJS request may come
  /// from, besides the same host (Origin host:port = Host header), which is always allowed.
  /// "*" allows any; requests without Origin (not browsers) are always allowed. Refused: 403.
  std::vector<std::string> allowed_origins;
  /// Also allow any loopback Origin (http(s)://localhost, 127.0.0.1, [::1] on any port): set
  /// by the application in development mode, for the developer's own page on another port.
  bool loopback_origins = false;

  // Proxies in front (docs/cluster.md). From a socket whose peer is in trusted_proxies, the
  // client address is taken from Forwarded / X-Forwarded-For (HTTP on the WebSocket port) and
  // from the PROXY protocol header; from anyone else those are ignored.
  /// Addresses and CIDR ranges ("10.0.0.0/8", "::1"); empty (the default) trusts nobody.
  std::vector<std::string> trusted_proxies;
  /// Every connection on the WebSocket port starts with a PROXY v1/v2 header (before TLS).
  bool ws_proxy_protocol = false;
  /// Every connection on the TCP port starts with a PROXY v1/v2 header (before TLS).
  bool tcp_proxy_protocol = false;
};

/// Why a connection was refused before its handshake.
enum class refusal {
  max_connections,         ///< server_config::max_connections reached (503 / ERROR)
  max_connections_per_ip,  ///< server_config::max_connections_per_ip reached (503 / ERROR)
  fd_limit,                ///< accept() failed for lack of file descriptors (503 / ERROR)
  origin,                  ///< Origin not in server_config::allowed_origins (403)
};
inline constexpr std::size_t refusal_count = 4;

/// Short stable name ("max_connections", ...) for logs and metrics labels.
const char* to_string(refusal r) noexcept;

/// The transports a session may run over, as broker::peer_info::transport names them.
inline constexpr std::array<const char*, 5> transport_names{"ws", "wss", "tcp", "tls", "sockjs"};
/// Index of `name` in transport_names; transport_names.size() when unknown.
std::size_t transport_index(std::string_view name) noexcept;

/// Counters shared by every connection of a server. Thread-safe (relaxed atomics).
struct stats {
  std::atomic<std::uint64_t> accepted{0};        ///< sockets accepted on both listeners
  std::atomic<std::uint64_t> open{0};            ///< connections currently open
  std::atomic<std::uint64_t> slow_consumers{0};  ///< connections closed by the pending-bytes cap
  std::atomic<std::uint64_t> dropped_frames{0};  ///< frames discarded by drop_oldest
  /// Connections refused before any handshake, by refusal.
  std::array<std::atomic<std::uint64_t>, refusal_count> refused{};
  /// Sessions open now by transport (index: transport_index), for metrics.
  std::array<std::atomic<std::int64_t>, transport_names.size()> open_by_transport{};
};

/// One connection as the operator's console shows it (see server::describe_connections).
struct connection_summary {
  std::uint64_t id = 0;             ///< unique in this process; names it in close_connection
  std::string transport;            ///< "ws", "wss", "tcp", "tls", "sockjs"
  std::string remote;               ///< client "ip:port" as the transport saw it
  std::string session;              ///< CONNECTED `session` header; empty before CONNECTED
  std::string user;                 ///< principal's name; empty: anonymous or not connected
  std::chrono::milliseconds age{0};  ///< since the socket was accepted
  std::size_t subscriptions = 0;
  std::size_t pending_bytes = 0;    ///< queued for the socket, not yet written
  std::chrono::milliseconds heartbeat_send{0};    ///< we send a heart-beat after this idle
  std::chrono::milliseconds heartbeat_expect{0};  ///< we expect to read within this
  bool connected = false;           ///< CONNECTED sent, not closing
};

/// A connection cut by the server for a slow reader or a silent peer (see server::recent_cuts).
struct connection_cut {
  std::chrono::system_clock::time_point when;
  std::string remote;
  std::string user;
  std::string transport;
  broker::close_reason reason = broker::close_reason::slow_consumer;
};

/// Connections summarised by describe_connections (the first `max` by age) and how many are
/// open in all.
struct connection_list {
  std::vector<connection_summary> connections;
  std::size_t total = 0;
};

namespace detail {
class server_state;
class listener;
}  // namespace detail

/// The listeners: accepts WebSocket and TCP peers, opens a broker session for each and carries
/// bytes both ways. Runs on the caller's io_context (any number of threads; one strand per
/// connection). start() and stop() are called from one thread; the rest is thread-safe.
/// The io_context and the broker must outlive every connection (run the io_context until it
/// returns after stop()).
class server {
 public:
  /// Nothing is bound until start().
  server(boost::asio::io_context& ioc, broker::broker& broker, server_config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Before start(): accepted connections are placed on these event loops in turn (each run by
  /// a thread of its own, as app/main does for --threads) instead of the server's io_context.
  /// Every loop must outlive the connections on it.
  void run_connections_on(std::vector<boost::asio::io_context*> loops);

  /// Binds and starts accepting. Throws std::system_error (or std::runtime_error for TLS files)
  /// when a listener cannot be bound: a start-up failure.
  void start();

  /// Port the WebSocket listener is bound to (the real one when configured as 0); 0 if none.
  std::uint16_t ws_port() const noexcept;
  /// Port the TCP listener is bound to; 0 if none.
  std::uint16_t tcp_port() const noexcept;

  /// Stops accepting and closes every connection (WebSocket: 1001 after flushing, TCP: after
  /// flushing). Returns at once; the io_context runs out of work when the last one has closed.
  void stop();

  /// Connections not yet fully closed (handshaking ones included). Thread-safe.
  std::size_t connection_count() const;

  /// The counters of this server.
  const stats& statistics() const noexcept;

  /// The settings in force.
  const server_config& settings() const noexcept;

  /// Loads tls_cert and tls_key again (after SIGHUP, when the files were renewed): connections
  /// accepted from now on use the new certificate, open ones keep theirs. On failure (missing
  /// or bad files) logs why and keeps the current certificate. False then, or without TLS.
  /// Thread-safe.
  bool reload_tls() noexcept;

  /// True between start() and stop(): the listeners accept. Thread-safe.
  bool accepting() const noexcept;

  /// Gathers the oldest `max` open connections' summaries, each read on its own strand (no
  /// lock, no waiting), and calls `done` once when all have answered, on the thread of the last
  /// one (or wherever the last unrun request is dropped, when the io_context stops). Thread-safe.
  void describe_connections(std::size_t max, std::function<void(connection_list)> done) const;

  /// Ends connection `id` as an administrator: its session gets ERROR "closed by an
  /// administrator", then it closes (WebSocket 1001). False when no open connection has that
  /// id. Returns at once (the close runs on the connection's strand). Thread-safe.
  bool close_connection(std::uint64_t id) const;

  /// The last cuts for slow consumers and heart-beat timeouts, newest first (at most
  /// max_recent_cuts). Thread-safe.
  std::vector<connection_cut> recent_cuts() const;
  static constexpr std::size_t max_recent_cuts = 50;

 private:
  std::shared_ptr<detail::server_state> state_;
  std::vector<std::shared_ptr<detail::listener>> listeners_;
};

/// The project version (broker::version(), e.g. "0.1.0"): shown on the HTTP page.
const char* version() noexcept;

}  // namespace transport
