#include "transport/detail/ws_connection.hpp"

#include <array>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "transport/detail/bearer.hpp"
#include "transport/detail/origin.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/connection_base.hpp"
#include "transport/detail/endpoint.hpp"
#include "transport/detail/http_api.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/sockjs/sockjs_http.hpp"
#include "transport/sockjs/sockjs_websocket.hpp"
#include "transport/detail/subprotocol.hpp"
#include "transport/detail/ws_socket.hpp"
#include "transport/detail/fail.hpp"
#include "transport/websocket/framing.hpp"
#include "transport/proxy/client_address.hpp"

namespace transport::detail {

std::uint16_t close_code(broker::close_reason why) noexcept {
  namespace ws = boost::beast::websocket;
  using broker::close_reason;
  switch (why) {
    case close_reason::normal:
    case close_reason::peer_gone:
      return ws::close_code::normal;
    case close_reason::shutdown:
      return ws::close_code::going_away;
    case close_reason::protocol_error:
    case close_reason::auth_failed:
    case close_reason::slow_consumer:
      return ws::close_code::protocol_error;
    case close_reason::frame_too_large:
      return ws::close_code::too_big;
    case close_reason::heartbeat_timeout:
    case close_reason::connect_timeout:
      return ws::close_code::policy_error;
    case close_reason::server_error:
      return ws::close_code::internal_error;
  }
  return ws::close_code::internal_error;
}

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
namespace framing = transport::websocket;  // ours; `websocket` is Beast's

constexpr std::size_t max_gather_bytes = 64 * 1024;  // per gathered WebSocket message
// WebSocket messages gathered into one write (ours, plain ws): bounds the iovec array.
constexpr std::size_t max_messages_per_write = 64;
constexpr std::size_t max_buffers_per_write = 256;

/// Plain-ws reads land here: one buffer per thread, so an idle connection holds none (as
/// tcp_connection.cpp does; a message that arrives whole in one read is never copied).
std::array<char, 64 * 1024>& ws_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

/// STOMP over WebSocket on a plain or TLS stream (Beast "flex" pattern: one template). The same
/// object reads the HTTP request, answers it or upgrades, then carries STOMP. Beast does the
/// HTTP exchange and the upgrade; after the 101 a plain connection frames the data itself
/// (transport/websocket/framing.hpp) on the bare socket and lets Beast's stream go; TLS keeps
/// Beast's stream.
template <class Next>
class ws_connection final : public connection_base, private framing::frame_decoder::handler {
  static constexpr bool is_tls = !std::is_same_v<Next, ws_socket>;

 public:
  template <class... Args>
  ws_connection(tcp::socket&& socket, const std::shared_ptr<server_state>& server,
                std::string remote, Args&&... args)
      : connection_base(socket.get_executor(), server, is_tls ? "wss" : "ws",
                        remote.empty() ? remote_of(socket) : std::move(remote)),
        ws_(std::in_place, make_next(std::move(socket), std::forward<Args>(args)...)),
        decoder_(server->config.max_message_bytes) {}

 private:
  using request_parser = http::request_parser<http::empty_body>;

  template <class... Args>
  static Next make_next(tcp::socket&& socket, Args&&... args) {
    if constexpr (is_tls) {
      return Next(std::move(socket), std::forward<Args>(args)...);
    } else {
      return ws_socket(std::move(socket));
    }
  }

  std::shared_ptr<ws_connection> self() {
    return std::static_pointer_cast<ws_connection>(shared_from_this());
  }

  void run() override {
    error_code ec;
    beast::get_lowest_layer(*ws_).set_option(tcp::no_delay(true), ec);
    if constexpr (is_tls) {
      ws_->next_layer().async_handshake(ssl::stream_base::server,
                                       [self = self()](const error_code& e) {
                                         if (e) return self->handshake_failed(e, "tls handshake");
                                         self->read_request();
                                       });
    } else {
      read_request();
    }
  }

  void read_request() {
    parser_ = std::make_unique<request_parser>();
    parser_->header_limit(static_cast<std::uint32_t>(server().config.max_handshake_bytes));
    parser_->body_limit(boost::none);  // head only: whoever reads a body sets its own limit
    // The head only: a SockJS xhr_send has a body, which serve_sockjs_http reads.
    http::async_read_header(ws_->next_layer(), buffer_, *parser_,
                     [self = self()](const error_code& ec, std::size_t) {
                       if (ec) return self->handshake_failed(ec, "http read");
                       self->on_request();
                     });
  }

  void on_request() {
    const auto& req = parser_->get();
    const auto& cfg = server().config;
    const auto path = target_path({req.target().data(), req.target().size()});
    if (!name_client(req)) return;
    if (websocket::is_upgrade(req) && !origin_ok(req)) return refuse_origin(req);
    if (path == cfg.ws_path && websocket::is_upgrade(req)) return accept(req);
    if (cfg.sockjs_enabled) {
      const auto route = parse_sockjs_route(path, cfg.sockjs_path);
      if (route.what != sockjs_route::kind::none) return on_sockjs(req, route);
    }
    if (cfg.api_enabled && is_api_path(path, cfg.api_path)) return on_api();
    if (path == cfg.ws_path) return respond(http::status::upgrade_required, "WebSocket only\n");
    if (path == "/" && (req.method() == http::verb::get || req.method() == http::verb::head)) {
      return respond(http::status::ok,
                     fmt::format("stompbox {} \u2014 STOMP over WebSocket at {}, STOMP over TCP "
                                 "at {}\n",
                                 transport::version(), cfg.ws_path,
                                 server().bound_tcp_port.load()));
    }
    respond(http::status::not_found, "not found\n");
  }

  // From a trusted proxy (the per-IP count was deferred, proxy/client_address.hpp) the client
  // is named by Forwarded / X-Forwarded-For: peer().remote becomes it before anything (the
  // SockJS and API code, the session, the rate limiter, logs) reads it, and its place is
  // counted against its own address. False when that address is over its limit (503 sent).
  bool name_client(const http::request<http::empty_body>& req) {
    auto ticket = take_ticket();
    const bool deferred = ticket && ticket.ip().empty();
    if (!deferred) {
      hold(std::move(ticket));
      return true;
    }
    auto sv = [](beast::string_view s) { return std::string_view(s.data(), s.size()); };
    proxy::forwarding_headers headers;
    auto [fb, fe] = req.equal_range(http::field::forwarded);
    for (auto it = fb; it != fe; ++it) headers.forwarded.push_back(sv(it->value()));
    auto [xb, xe] = req.equal_range("X-Forwarded-For");
    for (auto it = xb; it != xe; ++it) headers.x_forwarded_for.push_back(sv(it->value()));
    const auto client = client_behind_proxy(server(), peer().remote, headers);
    if (client.found) mutable_peer().remote = client.ip;
    const auto refused = shared_server()->admitted->rekey(ticket, client.ip);
    hold(std::move(ticket));
    if (!refused) return true;
    count_refusal(*shared_server(), *refused, peer().remote);
    respond(http::status::service_unavailable, refusal_body(*refused));
    return false;
  }

  // The publish API (http_api.hpp) takes the stream over, as SockJS's HTTP transports do.
  void on_api() {
    serve_api_http(shared_server(), std::move(*parser_),
                   make_sockjs_stream(std::move(ws_->next_layer()), std::move(buffer_),
                                      take_ticket()),
                   beast::get_lowest_layer(*ws_).get_executor(), peer().remote);
    parser_.reset();
    finish(broker::close_reason::normal);  // no session: only leaves the live set
  }

  // Under the SockJS prefix: the WebSocket transports upgrade here (the raw one carries plain
  // STOMP, the session one SockJS frames); everything else is HTTP, served by the SockJS code,
  // which takes the stream over.
  void on_sockjs(const http::request<http::empty_body>& req, const sockjs_route& route) {
    const bool session_ws = route.what == sockjs_route::kind::session &&
                            route.transport == "websocket";
    if (websocket::is_upgrade(req) && (session_ws || route.what == sockjs_route::kind::raw_websocket)) {
      mutable_peer().transport = "sockjs";
      if (session_ws) {
        sockjs_ = std::make_unique<sockjs_websocket>(beast::get_lowest_layer(*ws_).get_executor(),
                                                     server().config.sockjs_heartbeat);
      }
      return accept(req);
    }
    serve_sockjs_http(shared_server(), std::move(*parser_),
                      make_sockjs_stream(std::move(ws_->next_layer()), std::move(buffer_),
                                      take_ticket()),
                      beast::get_lowest_layer(*ws_).get_executor(), peer().remote);
    parser_.reset();
    finish(broker::close_reason::normal);  // no session: only leaves the live set
  }

  void send(broker::outgoing frame) override {
    connection_base::send(sockjs_ ? sockjs_websocket::wrap(frame) : std::move(frame));
  }

  void close(broker::close_reason why) override {
    if (sockjs_ && reading()) connection_base::send(sockjs_websocket::control(sockjs_close_frame(why)));
    connection_base::close(why);
  }

  void start_sockjs() {
    connection_base::send(sockjs_websocket::control(std::string(sockjs_open_frame)));
    sockjs_->start_heartbeat(weak_from_this(), [this] {
      connection_base::send(sockjs_websocket::control(std::string(sockjs_heartbeat_frame)));
    });
  }

  void fill_peer(const http::request<http::empty_body>& req) {
    auto sv = [](beast::string_view s) { return std::string_view(s.data(), s.size()); };
    std::vector<std::string_view> offered;
    auto [pb, pe] = req.equal_range(http::field::sec_websocket_protocol);
    for (auto it = pb; it != pe; ++it) offered.push_back(sv(it->value()));
    token_sources tokens;
    tokens.authorization = sv(req[http::field::authorization]);
    tokens.target = sv(req.target());
    auto [cb, ce] = req.equal_range(http::field::cookie);
    for (auto it = cb; it != ce; ++it) tokens.cookies.push_back(sv(it->value()));
    tokens.cookie_name = server().config.token_cookie;
    mutable_peer().subprotocol = std::string(select_subprotocol(offered));
    mutable_peer().bearer_token = bearer_token(tokens);
  }

  void accept(const http::request<http::empty_body>& req) {
    fill_peer(req);
    ws_->set_option(websocket::stream_base::decorator(
        [proto = peer().subprotocol](websocket::response_type& res) {
          res.set(http::field::server, std::string("stompbox/") + transport::version());
          if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
        }));
    ws_->read_message_max(server().config.max_message_bytes);
    ws_->auto_fragment(false);  // one outgoing = one WebSocket frame
    ws_->async_accept(req, [self = self()](const error_code& ec) {
      self->parser_.reset();
      if (ec) return self->handshake_failed(ec, "websocket accept");
      // Frames a client sent right behind its upgrade request (read with the HTTP head).
      auto early = beast::buffers_to_string(self->buffer_.cdata());
      self->buffer_.clear();
      self->buffer_.shrink_to_fit();
      if constexpr (!is_tls) self->leave_beast();
      self->open_session();
      if (self->sockjs_) self->start_sockjs();
      if constexpr (!is_tls) {
        if (!early.empty() && !self->on_frames(std::span<char>(early))) return;
      }
      self->do_read();
    });
  }

  // Cross-site WebSocket hijacking: a page elsewhere must not use the visitor's cookies here.
  bool origin_ok(const http::request<http::empty_body>& req) const {
    const auto origin = req[http::field::origin];
    const auto host = req[http::field::host];
    return origin_allowed({origin.data(), origin.size()}, {host.data(), host.size()},
                          server().config.allowed_origins, server().config.loopback_origins);
  }

  void refuse_origin(const http::request<http::empty_body>& req) {
    const auto origin = req[http::field::origin];
    const auto host = req[http::field::host];
    count_refusal(*shared_server(), refusal::origin, peer().remote,
                  origin_refusal_detail({origin.data(), origin.size()}, {host.data(), host.size()}));
    respond(http::status::forbidden, "origin not allowed\n");
  }

  void respond(http::status status, std::string body) {
    const auto& req = parser_->get();
    response_ = std::make_unique<http::response<http::string_body>>(status, req.version());
    response_->set(http::field::server, std::string("stompbox/") + transport::version());
    response_->set(http::field::content_type, "text/plain; charset=utf-8");
    response_->keep_alive(false);
    response_->body() = std::move(body);
    response_->prepare_payload();
    if (req.method() == http::verb::head) response_->body().clear();
    http::async_write(ws_->next_layer(), *response_,
                      [self = self()](const error_code& ec, std::size_t) {
                        if (ec) return self->handshake_failed(ec, "http write");
                        self->end_http();
                      });
  }

  void end_http() {
    if constexpr (is_tls) {
      ws_->next_layer().async_shutdown(
          [self = self()](const error_code&) { self->finish(broker::close_reason::normal); });
    } else {
      error_code ec;
      ws_->next_layer().shutdown(tcp::socket::shutdown_send, ec);
      finish(broker::close_reason::normal);
    }
  }

  // Plain ws after the 101: the bare socket is ours, Beast's stream (and the ~2.6 KB its
  // implementation holds) goes. Its last operation is still unwinding here, so it is released
  // from a posted step, not from inside its own completion.
  void leave_beast() {
    plain_.emplace(std::move(static_cast<tcp::socket&>(ws_->next_layer())));
    error_code ec;
    plain_->non_blocking(true, ec);
    net::post(plain_->get_executor(), [self = self()] { self->ws_.reset(); });
  }

  void do_read() {
    if (!may_read()) return;  // closing, or paused by flow control (restart_read resumes)
    if constexpr (is_tls) {
      do_read_beast();
    } else {
      // Wait for readability, then read into the thread's buffer: no buffer while idle.
      plain_->async_wait(tcp::socket::wait_read,
                         [self = self()](const error_code& ec) { self->on_readable(ec); });
    }
  }

  void on_readable(const error_code& wait_ec) {
    if (!reading()) return;  // closing: the drain after our close frame reads now
    if (wait_ec) return on_read_error(wait_ec, broker::close_reason::peer_gone);
    auto& buf = ws_read_buffer();
    error_code ec;
    const auto n = plain_->read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return do_read();
    if (ec) return on_read_error(ec, broker::close_reason::peer_gone);
    bool more = false;
    {
      const hold_drains one_batch_per_read;
      more = on_frames(std::span<char>(buf.data(), n));
    }
    if (more) do_read();
  }

  // Decodes what was read; false when the peer closed or broke the protocol (our close is on
  // its way, reading stops).
  bool on_frames(std::span<char> bytes) {
    const auto r = decoder_.feed(bytes, *this);
    using kind = framing::decode_result::kind;
    if (r.what == kind::more) return true;
    if (!reading()) return false;
    if (r.what == kind::failed) {
      spdlog::info("{} websocket {}: closing with {}", peer().remote, r.error.message(), r.code);
    }
    // What is queued and not yet written stays unwritten (as when Beast failed the read): the
    // peer gets our close next, with its own code echoed or the error's.
    discard_unsent();
    close_code_ = r.code;
    auto why = broker::close_reason::peer_gone;
    if (r.what == kind::closed && r.peer_code == framing::close_code::normal)
      why = broker::close_reason::normal;
    if (r.code == framing::close_code::too_big) why = broker::close_reason::frame_too_large;
    connection_base::close(why);
    return false;
  }

  // frame_decoder::handler: a whole message, as Beast's async_read gave it.
  void on_message(bool /*text*/, std::string_view bytes) override {
    if (!reading()) return;
    on_message_bytes(bytes);
  }

  void on_ping(std::string_view payload) override {
    if (!reading()) return;
    pong_ = framing::encode_control(framing::opcode::pong, payload);  // the latest ping wins
    if constexpr (!is_tls) {
      if (!writing_ && in_flight_ == 0) start_write_plain();
    }
  }

  void on_message_bytes(std::string_view bytes) {
    if (!sockjs_) {
      deliver_read(bytes);
    } else if (std::vector<std::string> messages; sockjs_websocket::unwrap(bytes, messages)) {
      for (const auto& m : messages) deliver_read(m);
    } else {
      close(broker::close_reason::protocol_error);  // not SockJS JSON: sockjs-node closes too
    }
  }

  // wss: Beast's stream. An idle connection waits for a message's first byte with a one-byte
  // read, then reads the rest: Beast's async_read would allocate about 1.5 KiB of buffer before
  // any byte arrives.
  void do_read_beast() {
    ws_->async_read_some(buffer_, 1, [self = self()](const error_code& ec, std::size_t) {
      if (ec || self->ws_->is_message_done()) return self->on_read(ec);
      self->ws_->async_read(self->buffer_,
                           [self](const error_code& e, std::size_t) { self->on_read(e); });
    });
  }

  void on_read(const error_code& ec) {
    if (ec == websocket::error::closed) {
      const bool clean = ws_->reason().code == websocket::close_code::normal;
      return on_read_error(ec, clean ? broker::close_reason::normal
                                     : broker::close_reason::peer_gone);
    }
    // Beast has already sent close 1009 for a message over read_message_max.
    if (ec == websocket::error::message_too_big) return finish(broker::close_reason::frame_too_large);
    if (ec) return on_read_error(ec, broker::close_reason::peer_gone);
    auto data = buffer_.cdata();
    on_message_bytes(std::string_view(static_cast<const char*>(data.data()), data.size()));
    // Give the buffer back after every message: idle connections hold no read buffer.
    buffer_.clear();
    buffer_.shrink_to_fit();
    do_read();
  }

  void restart_read() override { do_read(); }

  std::size_t max_frames_per_message() const {
    return sockjs_ ? 1 : std::max<std::size_t>(1, server().config.ws_frames_per_message);
  }

  // Several queued STOMP frames go out as one WebSocket message (one header, one gathered
  // write) when the peer is behind: STOMP clients parse a message as a byte stream (stomp.js,
  // Spring's StompDecoder, stomp.py). SockJS frames stay one per message (its framing says so),
  // text and binary never mix, and a cap of 1 frame restores one frame per message.
  void start_write() override {
    if constexpr (is_tls) {
      start_write_beast();
    } else {
      start_write_plain();
    }
  }

  // Adds to buffers_ the frames of one message from queue_[in_flight_]; returns its size.
  std::size_t gather_message(bool text) {
    const std::size_t first = in_flight_;
    std::size_t bytes = 0;
    while (in_flight_ < queue_.size() && in_flight_ - first < max_frames_per_message() &&
           bytes < max_gather_bytes && queue_[in_flight_].text == text &&
           buffers_.size() + 2 <= max_buffers_per_write) {
      const auto& f = queue_[in_flight_++];
      buffers_.emplace_back(f.head.data(), f.head.size());
      if (f.tail && !f.tail->empty()) buffers_.emplace_back(f.tail->data(), f.tail->size());
      bytes += f.size();
    }
    return bytes;
  }

  void start_write_beast() {
    buffers_.clear();
    in_flight_ = 0;
    const bool text = queue_.front().text;
    gather_message(text);
    ws_->text(text);
    ws_->async_write(buffers_, [self = self()](const error_code& ec, std::size_t) {
      if (self->buffers_.capacity() > 64) self->buffers_ = {};
      self->on_write_done(ec);
    });
  }

  // Plain ws: a pending pong, then up to max_messages_per_write messages, each a header of ours
  // followed by its frames' bytes, in one gathered write (one writev), as TCP writes.
  void start_write_plain() {
    if (writing_) return;  // a pong alone is on its way: its completion starts this
    buffers_.clear();
    headers_.clear();
    headers_.reserve(std::min(queue_.size(), max_messages_per_write));  // no moves below
    in_flight_ = 0;
    control_ = std::move(pong_);
    pong_.clear();
    if (!control_.empty()) buffers_.emplace_back(control_.data(), control_.size());
    while (in_flight_ < queue_.size() && headers_.size() < headers_.capacity() &&
           buffers_.size() + 3 <= max_buffers_per_write) {
      const bool text = queue_[in_flight_].text;
      const auto at = buffers_.size();
      buffers_.emplace_back();  // the header, once the size is known
      const auto bytes = gather_message(text);
      headers_.push_back(framing::encode_header(text ? framing::opcode::text
                                                     : framing::opcode::binary,
                                                bytes));
      buffers_[at] = net::const_buffer(headers_.back().bytes.data(), headers_.back().size);
    }
    if (buffers_.empty()) return;
    writing_ = true;
    net::async_write(*plain_, buffers_, [self = self()](const error_code& ec, std::size_t) {
      self->on_plain_written(ec);
    });
  }

  void on_plain_written(const error_code& ec) {
    writing_ = false;
    std::string().swap(control_);
    if (buffers_.capacity() > 64) buffers_ = {};
    if (headers_.capacity() > 8) headers_ = {};
    on_write_done(ec);  // also after a pong alone (nothing in flight): starts what queued since
    if (writing_) return;
    if (shutdown_pending_) return write_close();
    if (!pong_.empty() && reading()) start_write_plain();  // a ping came during the write
  }

  void start_shutdown() override {
    if constexpr (is_tls) {
      ws_->async_close(websocket::close_reason(close_code(reason())),
                       [self = self()](const error_code&) { self->finish(self->reason()); });
    } else {
      shutdown_pending_ = true;
      if (!writing_) write_close();
    }
  }

  // Our close frame (the peer's code echoed, the protocol error's, or our reason's), then our
  // FIN, then read and discard until the peer's EOF (bounded by close_timeout): closing with
  // unread bytes would send an RST, which can destroy the close frame in flight.
  void write_close() {
    shutdown_pending_ = false;
    std::string().swap(pong_);
    control_ = framing::encode_close(close_code_ != 0 ? close_code_ : close_code(reason()));
    writing_ = true;
    net::async_write(*plain_, net::buffer(control_), [self = self()](const error_code& ec,
                                                                  std::size_t) {
      self->writing_ = false;
      error_code ignored;
      if (!ec) self->plain_->shutdown(tcp::socket::shutdown_send, ignored);
      if (ec) return self->finish(self->reason());
      self->drain();
    });
  }

  void drain() {
    plain_->async_wait(tcp::socket::wait_read, [self = self()](const error_code& wait_ec) {
      auto& buf = ws_read_buffer();
      error_code ec = wait_ec;
      std::size_t n = 0;
      if (!ec) n = self->plain_->read_some(net::buffer(buf), ec);
      if (ec == net::error::would_block || ec == net::error::try_again) return self->drain();
      if (ec || n == 0) return self->finish(self->reason());
      self->drain();
    });
  }

  void cut() noexcept override {
    error_code ec;
    if (plain_) {
      plain_->close(ec);
    } else if (ws_) {
      beast::get_lowest_layer(*ws_).close(ec);
    }
  }

  // Until the upgrade (wss: for good) Beast's stream; plain ws then moves to plain_.
  std::optional<websocket::stream<Next>> ws_;
  std::optional<tcp::socket> plain_;
  framing::frame_decoder decoder_;  // plain ws: the client's frames
  beast::flat_buffer buffer_;
  // Handshake only, so on the heap: an open connection holds neither.
  std::unique_ptr<request_parser> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;  // page / 404 only
  std::unique_ptr<sockjs_websocket> sockjs_;  // SockJS framing ({prefix}/{s}/{id}/websocket)
  std::vector<net::const_buffer> buffers_;    // the gathered write in flight
  std::vector<framing::frame_header> headers_;  // plain ws: the headers of that write
  std::string pong_;     ///< plain ws: the pong owed to the latest ping (<= 127 bytes)
  std::string control_;  ///< plain ws: the pong or close frame being written
  std::uint16_t close_code_ = 0;  ///< plain ws: the close code the peer's frames decided
  bool writing_ = false;           ///< plain ws: a write of ours is in flight
  bool shutdown_pending_ = false;  ///< plain ws: start_shutdown waits for that write
};

}  // namespace

void start_ws_connection(tcp::socket socket, const std::shared_ptr<server_state>& server,
                         admission_ticket ticket, std::string remote) {
  std::shared_ptr<connection_base> c;
  if (server->tls) {
    c = std::make_shared<ws_connection<ssl::stream<tcp::socket>>>(
        std::move(socket), server, std::move(remote), *server->tls.current());
  } else {
    c = std::make_shared<ws_connection<ws_socket>>(std::move(socket), server, std::move(remote));
  }
  c->hold(std::move(ticket));
  c->start();
}

}  // namespace transport::detail
