#include "transport/detail/http_api.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/byte_budget.hpp"
#include "broker/printable.hpp"
#include "transport/detail/api_request.hpp"
#include "transport/detail/bearer.hpp"
#include "transport/detail/origin.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/server_state.hpp"

namespace transport::detail {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

/// One API request, on the strand of the connection that read its head. Kept alive by its
/// pending operations.
struct api_exchange : std::enable_shared_from_this<api_exchange> {
  api_exchange(std::shared_ptr<server_state> s, http::request_parser<http::empty_body>&& head,
               std::shared_ptr<sockjs_stream> st, net::any_io_executor ex, std::string r)
      : server(std::move(s)), parser(std::move(head)), stream(std::move(st)), strand(ex),
        remote(std::move(r)), deadline(ex) {
    parser.body_limit(server->config.api_max_body_bytes);
  }

  std::shared_ptr<server_state> server;
  sockjs_stream::body_parser parser;
  std::shared_ptr<sockjs_stream> stream;
  net::any_io_executor strand;
  std::string remote;
  net::steady_timer deadline;  // a client that never finishes its request is cut
  broker::held_bytes body_held;  // the body being received, charged to the server budget
  bool answered = false;
};

using exchange_ptr = std::shared_ptr<api_exchange>;

void respond(const exchange_ptr& x, unsigned status, std::string body,
             std::string_view extra_headers = {}) {
  if (x->answered) return;
  x->answered = true;
  const auto code = static_cast<http::status>(status);
  auto bytes = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: stompbox/{}\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-store\r\n{}Connection: close\r\nContent-Length: {}\r\n\r\n{}",
      status, sv(http::obsolete_reason(code)), transport::version(), extra_headers, body.size(),
      body);
  x->stream->write(std::move(bytes), x->strand, [x](const error_code&) {
    x->deadline.cancel();
    x->stream->end(x->server->config.close_timeout);
  });
}

void refuse(const exchange_ptr& x, unsigned status, std::string_view message,
            std::string_view extra_headers = {}) {
  spdlog::debug("publish api {}: {} {}", x->remote, status, broker::printable(message, 200));
  respond(x, status, api_error_json(message), extra_headers);
}

void answer(const exchange_ptr& x, const broker::publish_result& r) {
  const unsigned status = api_status_code(r.status);
  if (r.status == broker::publish_status::accepted) {
    return respond(x, status, api_accepted_json(r.message_id));
  }
  // RFC 9110 §11.6.1: a 401 names the schemes it accepts.
  refuse(x, status, r.error.empty() ? broker::to_string(r.status) : r.error,
         status == 401 ? "WWW-Authenticate: Bearer, Basic realm=\"stompbox\"\r\n" : "");
}

void publish(const exchange_ptr& x) {
  const auto& req = x->parser.get();
  std::string error;
  auto request = parse_publish_body(req.body(), error);
  if (!request) return refuse(x, 400, error);
  const auto creds = parse_api_credentials(sv(req[http::field::authorization]), x->remote);
  std::string key(sv(req["Idempotency-Key"]));
  // `done` may run on the store's writer thread: the answer is written from the strand.
  x->server->broker.api_publish(creds, std::move(*request), std::move(key),
                                [x](broker::publish_result r) {
                                  net::post(x->strand, [x, r = std::move(r)] { answer(x, r); });
                                });
}

void on_body(const exchange_ptr& x, const error_code& ec) {
  if (ec == http::error::body_limit) return refuse(x, 413, "the request body is too large");
  if (ec) {
    x->deadline.cancel();
    return x->stream->end(x->server->config.close_timeout);
  }
  publish(x);
}

void read_body(const exchange_ptr& x) {
  if (x->parser.is_done()) return on_body(x, {});
  auto read = [x] {
    x->stream->read_body(x->parser, x->server->config.handshake_timeout, x->strand,
                         [x](const error_code& ec) { on_body(x, ec); });
  };
  // curl and others wait for this before sending a large body (RFC 9110 §10.1.1).
  if (sv(x->parser.get()[http::field::expect]) != "100-continue") return read();
  x->stream->write("HTTP/1.1 100 Continue\r\n\r\n", x->strand,
                   [x, read](const error_code& ec) {
                     if (ec) return x->stream->end(x->server->config.close_timeout);
                     read();
                   });
}

void start_deadline(const exchange_ptr& x) {
  x->deadline.expires_after(x->server->config.handshake_timeout);
  x->deadline.async_wait([x](const error_code& ec) {
    if (ec || x->answered) return;
    x->answered = true;
    x->stream->end(std::chrono::milliseconds(0));
  });
}

void route(const exchange_ptr& x) {
  const auto& cfg = x->server->config;
  const auto& req = x->parser.get();
  if (target_path(sv(req.target())) != cfg.api_path + "/v1/publish") {
    return refuse(x, 404, "not found");
  }
  if (req.method() != http::verb::post) {
    return refuse(x, 405, "only POST", "Allow: POST\r\n");
  }
  // A page elsewhere can POST here without a CORS preflight (`fetch` in no-cors mode, a form):
  // its Origin is refused by the WebSocket's rule, and only application/json is read (a type
  // no page can send across sites without a preflight we never answer). Above all in
  // development mode, where no credentials are needed.
  const auto origin = sv(req[http::field::origin]);
  const auto host = sv(req[http::field::host]);
  if (!origin_allowed(origin, host, cfg.allowed_origins, cfg.loopback_origins)) {
    count_refusal(*x->server, refusal::origin, x->remote, origin_refusal_detail(origin, host));
    return refuse(x, 403, "origin not allowed");
  }
  if (!is_json_content_type(sv(req[http::field::content_type]))) {
    return refuse(x, 415, "Content-Type must be application/json");
  }
  // Refused before a byte of the body is read (chunked bodies hit the parser's body_limit).
  if (const auto length = x->parser.content_length(); length && *length > cfg.api_max_body_bytes) {
    return refuse(x, 413, "the request body is too large");
  }
  // The body is charged to the server-wide budget while it is received and published.
  const std::size_t announced = std::min<std::uint64_t>(
      x->parser.content_length().value_or(cfg.api_max_body_bytes), cfg.api_max_body_bytes);
  auto held = broker::held_bytes::try_hold(x->server->broker.held(), announced);
  if (!held) {
    return refuse(x, 503, "server busy: the server-wide byte budget is spent", "Retry-After: 1\r\n");
  }
  x->body_held = std::move(*held);
  read_body(x);
}

}  // namespace

bool is_api_path(std::string_view path, std::string_view prefix) noexcept {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.ends_with('/');
}

void serve_api_http(const std::shared_ptr<server_state>& server,
                    http::request_parser<http::empty_body>&& head,
                    std::shared_ptr<sockjs_stream> stream, net::any_io_executor strand,
                    std::string remote) {
  auto x = std::make_shared<api_exchange>(server, std::move(head), std::move(stream), strand,
                                          std::move(remote));
  start_deadline(x);
  route(x);
}

}  // namespace transport::detail
