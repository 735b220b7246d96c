// Fuzzes the WebSocket upgrade request handling of transport/detail/ws_connection.cpp: the HTTP
// request parser with the server's limits, then what on_request/fill_peer do with the request
// (path, upgrade check, subprotocol selection, bearer token from header, query or cookie).
// Input: byte 0 bit 0 picks the mode:
//   0: the rest is raw request bytes, parsed as the server does (http::request_parser with
//      empty_body and header_limit = server_config::max_handshake_bytes);
//   1: the rest is "authorization\ntarget\ncookie\nprotocols..." (one Sec-WebSocket-Protocol
//      value per further line) handed straight to the pure functions, past Beast's checks.
// Aborts when
//  - the chosen subprotocol is not empty and not one of ours, or was not offered (as a trimmed
//    token of some header line), or a better one of ours was offered, or none was chosen
//    although one of ours was offered;
//  - a bearer token taken from the Authorization header is not a part of it, or the token is
//    empty although the header is "Bearer <token>";
//  - target_path is not the prefix of the target up to '?';
//  - percent_decode grows its input.
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "transport/detail/bearer.hpp"
#include "transport/detail/subprotocol.hpp"
#include "transport/server.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace transport::detail;

constexpr std::array<std::string_view, 4> ours{"v12.stomp", "v11.stomp", "v10.stomp", "stomp"};

[[noreturn]] void broken(const char* rule, std::string_view detail) {
  std::fprintf(stderr, "ws_upgrade_fuzzer: %s: \"%.*s\"\n", rule,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Rank of our best subprotocol among every token of every line; ours.size() when none.
std::size_t best_offered(const std::vector<std::string_view>& offered) {
  std::size_t best = ours.size();
  for (std::string_view line : offered) {
    for (std::string_view token : split_tokens(line)) {
      for (std::size_t i = 0; i < best; ++i) {
        if (token == ours[i]) best = i;
      }
    }
  }
  return best;
}

void check_subprotocol(const std::vector<std::string_view>& offered) {
  const std::string_view chosen = select_subprotocol(offered);
  const std::size_t best = best_offered(offered);
  if (best == ours.size()) {
    if (!chosen.empty()) broken("a subprotocol chosen though none of ours was offered", chosen);
    return;
  }
  if (chosen != ours[best]) broken("not the best offered subprotocol", chosen);
}

bool is_bearer_scheme(std::string_view auth) {
  if (auth.size() <= 6 || auth[6] != ' ') return false;
  for (std::size_t i = 0; i < 6; ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != "bearer"[i]) return false;
  }
  return true;
}

void check_token(const token_sources& in) {
  const std::string token = bearer_token(in);
  const std::string_view auth = trim(in.authorization);
  if (is_bearer_scheme(auth)) {
    if (token != trim(auth.substr(7))) broken("Authorization: Bearer token", in.authorization);
  } else if (!token.empty() && in.target.find('?') == std::string_view::npos &&
             in.cookies.empty()) {
    broken("a token taken from a non-Bearer Authorization header", in.authorization);
  }
  const std::string_view path = target_path(in.target);
  if (!in.target.starts_with(path) || path.find('?') != std::string_view::npos ||
      (path.size() < in.target.size() && in.target[path.size()] != '?')) {
    broken("target_path", in.target);
  }
  if (percent_decode(in.target).size() > in.target.size()) broken("percent_decode", in.target);
}

// What ws_connection::on_request and fill_peer read from a parsed request.
void check_request(const http::request<http::empty_body>& req, const std::string& cookie_name) {
  const std::string_view target = sv(req.target());
  (void)beast::websocket::is_upgrade(req);
  std::vector<std::string_view> offered;
  auto [pb, pe] = req.equal_range(http::field::sec_websocket_protocol);
  for (auto it = pb; it != pe; ++it) offered.push_back(sv(it->value()));
  check_subprotocol(offered);
  token_sources tokens;
  tokens.authorization = sv(req[http::field::authorization]);
  tokens.target = target;
  auto [cb, ce] = req.equal_range(http::field::cookie);
  for (auto it = cb; it != ce; ++it) tokens.cookies.push_back(sv(it->value()));
  tokens.cookie_name = cookie_name;
  check_token(tokens);
}

void run_http(std::string_view bytes, const transport::server_config& cfg) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(cfg.max_handshake_bytes));
  beast::error_code ec;
  while (!bytes.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) return;  // need_more included: the server would wait, then time out
    if (used == 0) return;
    bytes.remove_prefix(used);
  }
  if (parser.is_done()) check_request(parser.get(), cfg.token_cookie);
}

std::string_view next_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  const std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  return line;
}

void run_direct(std::string_view rest, const transport::server_config& cfg) {
  token_sources tokens;
  tokens.authorization = next_line(rest);
  tokens.target = next_line(rest);
  if (const std::string_view cookie = next_line(rest); !cookie.empty()) {
    tokens.cookies.push_back(cookie);
  }
  tokens.cookie_name = cfg.token_cookie;
  std::vector<std::string_view> offered;
  while (!rest.empty()) offered.push_back(next_line(rest));
  check_subprotocol(offered);
  check_token(tokens);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const transport::server_config cfg;  // the server's defaults: 8 KiB of headers
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    run_direct(rest, cfg);
  } else {
    run_http(rest, cfg);
  }
  return 0;
}
