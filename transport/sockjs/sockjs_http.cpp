#include "transport/sockjs/sockjs_http.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "broker/byte_budget.hpp"
#include "transport/detail/endpoint.hpp"
#include "transport/detail/bearer.hpp"
#include "transport/detail/log_throttle.hpp"
#include "transport/detail/origin.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/sockjs/sockjs_session.hpp"

namespace transport::detail {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using error_code = boost::system::error_code;
using kind = sockjs_route::kind;

constexpr std::string_view no_cache =
    "Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n";
constexpr std::string_view javascript = "application/javascript; charset=UTF-8";
constexpr std::string_view plain_text = "text/plain; charset=UTF-8";

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

/// One request being answered, on the strand of the connection that read it.
struct exchange {
  std::shared_ptr<server_state> server;
  request req;
  std::shared_ptr<sockjs_stream> stream;
  net::any_io_executor strand;
  std::string remote;
};

// SockJS clients send credentials (cookies) cross-origin, so the origin is echoed, never "*",
// when there is one (the protocol, "CORS"; sockjs-node and Spring do the same).
std::string cors_headers(const request& req) {
  auto origin = sv(req[http::field::origin]);
  if (origin.empty() || origin == "null") origin = "*";
  return fmt::format("Access-Control-Allow-Origin: {}\r\nAccess-Control-Allow-Credentials: true"
                     "\r\nVary: Origin\r\n",
                     origin);
}

/// Status line and headers shared by every answer, without the blank line.
std::string response_head(const request& req, http::status status, std::string_view type,
                          std::string_view extra = {}) {
  return fmt::format("HTTP/1.1 {} {}\r\nServer: stompbox/{}\r\n{}{}{}{}Connection: close\r\n",
                     static_cast<unsigned>(status), sv(http::obsolete_reason(status)),
                     transport::version(),
                     type.empty() ? std::string() : fmt::format("Content-Type: {}\r\n", type),
                     no_cache, cors_headers(req), extra);
}

void respond(const exchange& x, http::status status, std::string_view type, std::string body,
             std::string_view extra = {}) {
  if (x.req.method() == http::verb::head) body.clear();
  auto bytes = fmt::format("{}Content-Length: {}\r\n\r\n{}", response_head(x.req, status, type, extra),
                           body.size(), body);
  const auto grace = x.server->config.close_timeout;
  x.stream->write(std::move(bytes), x.strand,
                  [stream = x.stream, grace](const error_code&) { stream->end(grace); });
}

// A CORS preflight: cached by the browser for a year, as the protocol suggests.
void preflight(const exchange& x, std::string_view methods) {
  auto asked = sv(x.req[http::field::access_control_request_headers]);
  auto extra = fmt::format(
      "Access-Control-Allow-Methods: {}\r\nAccess-Control-Max-Age: 31536000\r\n{}", methods,
      asked.empty() ? std::string() : fmt::format("Access-Control-Allow-Headers: {}\r\n", asked));
  auto bytes = response_head(x.req, http::status::no_content, {}, extra);
  // The preflight may be cached: replace no_cache with a public, long-lived one.
  bytes.replace(bytes.find(no_cache), no_cache.size(), "Cache-Control: public, max-age=31536000\r\n");
  bytes += "\r\n";
  const auto grace = x.server->config.close_timeout;
  x.stream->write(std::move(bytes), x.strand,
                  [stream = x.stream, grace](const error_code&) { stream->end(grace); });
}

std::uint32_t entropy() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return static_cast<std::uint32_t>(gen());
}

broker::peer_info peer_of(const exchange& x) {
  token_sources tokens;
  tokens.authorization = sv(x.req[http::field::authorization]);
  tokens.target = sv(x.req.target());
  auto [cb, ce] = x.req.equal_range(http::field::cookie);
  for (auto it = cb; it != ce; ++it) tokens.cookies.push_back(sv(it->value()));
  tokens.cookie_name = x.server->config.token_cookie;
  broker::peer_info peer;
  peer.transport = "sockjs";
  peer.remote = x.remote;
  peer.bearer_token = bearer_token(tokens);
  return peer;
}

// The cookie a session's requests present once a browser has stored it (sockjs_table binds
// each session to its opener). Spring names its SockJS cookie JSESSIONID, for load balancers'
// stickiness; ours is a secret of one session and only proves who opened it.
constexpr std::string_view session_cookie = "stompbox_sockjs";

sockjs_client client_of(const exchange& x, std::vector<std::string_view>& cookie_headers) {
  auto [cb, ce] = x.req.equal_range(http::field::cookie);
  for (auto it = cb; it != ce; ++it) cookie_headers.push_back(sv(it->value()));
  return {ip_of(x.remote),  // each request is a new socket: compare IPs
          cookie_value(cookie_headers, session_cookie)};
}

/// 128 random bits, in hex: a value nobody else can guess.
std::string new_cookie_value() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  std::string out;
  for (const unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

// Scoped to the session's own URLs ("/sockjs/000/<id>"): two sessions in one browser never
// overwrite each other's cookie. sockjs-client sends its XHRs withCredentials, so a browser
// keeps the cookie and sends it back on the session's later requests. Cross-site, browsers send
// only SameSite=None cookies, which must be Secure: over plain HTTP the cookie is Lax (sent
// same-site, e.g. another port of localhost) and a cross-site page's sessions are bound by
// address alone.
// A session id is the client's choice: one that would not read back as a plain cookie path
// (';' would start an attribute) gets no cookie, its session is bound by address alone.
std::string set_cookie_header(const exchange& x, std::string_view value) {
  const auto full = target_path(sv(x.req.target()));
  const auto path = full.substr(0, full.rfind('/'));
  const bool plain = std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '-' || c == '_' || c == '~' || c == '%' || c == '.';
  });
  if (!plain) return {};
  return fmt::format("Set-Cookie: {}={}; Path={}; HttpOnly; {}\r\n", session_cookie, value,
                     path, x.stream->secure() ? "SameSite=None; Secure" : "SameSite=Lax");
}

// Someone else's session id: answered as an unknown id of xhr_send is, and logged (at most a
// line a second; no id: it is the session's secret too).
void refuse_foreign(const exchange& x, std::string_view transport) {
  static log_throttle throttle;
  if (std::uint64_t suppressed = 0; throttle.allow(suppressed)) {
    spdlog::warn("{} refused: {} for a sockjs session opened by another client ({} more since "
                 "the last such line)",
                 x.remote, transport, suppressed);
  }
  respond(x, http::status::not_found, plain_text, "Session not found\n");
}

/// xhr, xhr_streaming, eventsource: the response goes to the session (created by the first).
void open_receiver(const exchange& x, const sockjs_route& route, sockjs_receiver::kind k) {
  const auto type = k == sockjs_receiver::kind::eventsource ? "text/event-stream; charset=UTF-8"
                                                            : javascript;
  const std::string id(route.session);
  std::vector<std::string_view> cookie_headers;
  const auto who = client_of(x, cookie_headers);
  std::string cookie = new_cookie_value();
  if (cookie.empty()) {
    return respond(x, http::status::service_unavailable, plain_text, "no randomness\n");
  }
  // A session is one place in the connection limits, for its whole life, whatever number of
  // requests carry it: the request that creates it hands its socket's place over to it, and
  // later ones give theirs back (the session's covers them).
  bool created = false;
  auto found = x.server->sockjs.find_or_create(
      id, who, cookie,
      [&] {
        auto s = sockjs_session::create(x.server, id, peer_of(x));
        s->hold(x.stream->take_ticket());
        return s;
      },
      created);
  if (found.foreign) return refuse_foreign(x, route.transport);
  auto r = std::make_shared<sockjs_receiver>(
      k, x.stream,
      response_head(x.req, http::status::ok, type,
                    created ? set_cookie_header(x, cookie) : std::string()),
      x.server->config.sockjs_stream_bytes_limit);
  if (!found.live) {  // ended lately: tell the client how
    const auto grace = x.server->config.close_timeout;
    x.stream->write(r->format(found.close_frame), x.strand,
                    [r, grace](const error_code&) { r->stream().end(grace); });
    return;
  }
  if (created) {
    found.live->start();
  } else {
    x.stream->take_ticket().release();
  }
  found.live->attach(std::move(r));
}

void xhr_send(const exchange& x, const sockjs_route& route) {
  std::vector<std::string_view> cookie_headers;
  auto found = x.server->sockjs.find(std::string(route.session), client_of(x, cookie_headers));
  if (found.foreign) return refuse_foreign(x, route.transport);
  if (!found.live) return respond(x, http::status::not_found, plain_text, "Session not found\n");
  x.stream->take_ticket().release();  // the body is in: the session's place covers the rest
  if (x.req.body().empty()) {
    return respond(x, http::status::internal_server_error, plain_text, "Payload expected.");
  }
  std::vector<std::string> messages;
  if (!parse_sockjs_messages(x.req.body(), messages)) {
    return respond(x, http::status::internal_server_error, plain_text, "Broken JSON encoding.");
  }
  found.live->receive(std::move(messages));
  respond(x, http::status::no_content, plain_text, {});
}

void method_not_allowed(const exchange& x, std::string_view allow) {
  respond(x, http::status::method_not_allowed, plain_text, {}, fmt::format("Allow: {}\r\n", allow));
}

void serve_session(const exchange& x, const sockjs_route& r) {
  const auto m = x.req.method();
  if (r.transport == "websocket") {
    return respond(x, http::status::bad_request, plain_text,
                   "Can \"Upgrade\" only to \"WebSocket\".");
  }
  sockjs_receiver::kind k{};
  if (r.transport == "xhr") {
    k = sockjs_receiver::kind::polling;
  } else if (r.transport == "xhr_streaming") {
    k = sockjs_receiver::kind::streaming;
  } else if (r.transport == "eventsource") {
    if (m != http::verb::get) return method_not_allowed(x, "GET");
    return open_receiver(x, r, sockjs_receiver::kind::eventsource);
  } else if (r.transport != "xhr_send") {
    return respond(x, http::status::not_found, plain_text, "not found\n");  // jsonp, htmlfile...
  }
  if (m == http::verb::options) return preflight(x, "OPTIONS, POST");
  if (m != http::verb::post) return method_not_allowed(x, "OPTIONS, POST");
  if (r.transport == "xhr_send") return xhr_send(x, r);
  open_receiver(x, r, k);
}

// The WebSocket endpoint's Origin policy (server_config::allowed_origins) for every SockJS
// request: SockJS sends credentials, so a foreign page must not ride on the visitor's cookies.
bool origin_ok(const exchange& x) {
  return origin_allowed(sv(x.req[http::field::origin]), sv(x.req[http::field::host]),
                        x.server->config.allowed_origins, x.server->config.loopback_origins);
}

void serve(const exchange& x) {
  if (!origin_ok(x)) {
    count_refusal(*x.server, refusal::origin, x.remote,
                  origin_refusal_detail(sv(x.req[http::field::origin]),
                                        sv(x.req[http::field::host])));
    return respond(x, http::status::forbidden, plain_text, "origin not allowed\n");
  }
  const auto path = target_path(sv(x.req.target()));
  const auto route = parse_sockjs_route(path, x.server->config.sockjs_path);
  const auto m = x.req.method();
  switch (route.what) {
    case kind::welcome:
      return respond(x, http::status::ok, plain_text, "Welcome to SockJS!\n");
    case kind::info:
      if (m == http::verb::options) return preflight(x, "OPTIONS, GET");
      if (m != http::verb::get && m != http::verb::head) return method_not_allowed(x, "OPTIONS, GET");
      return respond(x, http::status::ok, "application/json; charset=UTF-8",
                     sockjs_info_json(true, false, entropy()));
    case kind::raw_websocket:
      return respond(x, http::status::bad_request, plain_text,
                     "Can \"Upgrade\" only to \"WebSocket\".");
    case kind::session:
      return serve_session(x, route);
    case kind::none:
    case kind::not_found:
      break;
  }
  respond(x, http::status::not_found, plain_text, "not found\n");
}

}  // namespace

void serve_sockjs_http(const std::shared_ptr<server_state>& server,
                       http::request_parser<http::empty_body>&& head,
                       std::shared_ptr<sockjs_stream> stream, net::any_io_executor strand,
                       std::string remote) {
  // The head was read with an empty body: xhr_send's body (JSON) is read now, capped like a
  // WebSocket message, within the handshake deadline, and charged to the server-wide budget
  // while it is received (a server over its budget answers 503 before reading it).
  auto parser = std::make_shared<sockjs_stream::body_parser>(std::move(head));
  const auto limit = server->config.max_message_bytes;
  parser->body_limit(limit);
  if (parser->is_done()) return serve(exchange{server, parser->release(), stream, strand, remote});
  const std::size_t announced = std::min<std::uint64_t>(parser->content_length().value_or(limit),
                                                        limit);
  auto body_held = broker::held_bytes::try_hold(server->broker.held(), announced);
  if (!body_held) {
    return respond(exchange{server, parser->release(), stream, strand, remote},
                   http::status::service_unavailable, plain_text, "server busy\n",
                   "Retry-After: 1\r\n");
  }
  auto held = std::make_shared<broker::held_bytes>(std::move(*body_held));
  auto run = [server, parser, stream, strand, held,
              remote = std::move(remote)](const error_code& ec) {
    if (ec) return stream->end(server->config.close_timeout);
    serve(exchange{server, parser->release(), stream, strand, remote});
  };
  stream->read_body(*parser, server->config.handshake_timeout, strand, std::move(run));
}

}  // namespace transport::detail
