// Differential fuzzer of our RFC 6455 decoder (transport/websocket/framing.hpp) against
// Beast's websocket::stream, which plain ws used for data frames before: the same client byte
// stream goes to both, and both must give the same messages (type and payload), answer the
// same pings, and end the same way (the same close code sent, or none at the end of input).
// Input: byte 0 sets the message limit (16 + 4 * byte, so 1009 is reachable); byte 1 seeds
// where our decoder's input is split (it must resume anywhere); the rest is what the client
// sends after the upgrade, as it arrives on the socket.
// Aborts on any difference, except a deviation of Beast's we do not copy: a text message
// whose last frame is empty is not checked for a truncated code point (Beast delivers it, we
// close 1007, as RFC 6455 §8.1 says); such inputs are skipped.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "transport/websocket/framing.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace framing = transport::websocket;

using message = std::pair<bool, std::string>;

struct outcome {
  std::vector<message> messages;
  std::vector<std::string> pings;  // payloads of the pongs sent
  std::uint16_t close_code = 0;    // the close frame sent; 0: none
};

[[noreturn]] void broken(const char* rule, std::size_t at) {
  std::fprintf(stderr, "ws_framing_fuzzer: %s (item %zu)\n", rule, at);
  std::abort();
}

// The server frames Beast wrote after its 101 response: pongs and the close frame.
void read_server_frames(std::string_view out, outcome& o) {
  const auto end_of_head = out.find("\r\n\r\n");
  if (end_of_head == std::string_view::npos) broken("no 101 from Beast", 0);
  out.remove_prefix(end_of_head + 4);
  while (out.size() >= 2) {
    const auto op = static_cast<std::uint8_t>(out[0]) & 0x0F;
    std::size_t len = static_cast<std::uint8_t>(out[1]) & 0x7F;  // control frames: <= 125
    if (out.size() < 2 + len) broken("truncated server frame", 0);
    const auto payload = out.substr(2, len);
    if (op == 0x0A) o.pings.emplace_back(payload);
    if (op == 0x08 && len >= 2)
      o.close_code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                static_cast<std::uint8_t>(payload[1]));
    out.remove_prefix(2 + len);
  }
}

outcome run_beast(std::string_view wire, std::size_t max_message) {
  net::io_context ioc;
  beast::test::stream socket(ioc);
  beast::test::stream client(ioc);
  socket.connect(client);
  beast::websocket::stream<beast::test::stream&> ws(socket);
  ws.read_message_max(max_message);
  http::request<http::empty_body> req{http::verb::get, "/ws", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  beast::error_code ec;
  ws.accept(req, ec);
  if (ec) broken("Beast refused the upgrade", 0);
  socket.append(beast::string_view(wire.data(), wire.size()));
  socket.close_remote();  // the end of the input is the client's EOF
  outcome o;
  for (;;) {
    beast::flat_buffer b;
    ws.read(b, ec);
    if (ec) break;
    o.messages.emplace_back(ws.got_text(), beast::buffers_to_string(b.data()));
  }
  read_server_frames(client.str(), o);
  return o;
}

struct recorder final : framing::frame_decoder::handler {
  outcome* o;
  explicit recorder(outcome& out) : o(&out) {}
  void on_message(bool text, std::string_view payload) override {
    o->messages.emplace_back(text, std::string(payload));
  }
  void on_ping(std::string_view payload) override { o->pings.emplace_back(payload); }
};

outcome run_ours(std::string wire, std::size_t max_message, std::uint8_t split_seed) {
  outcome o;
  recorder r(o);
  framing::frame_decoder decoder(max_message);
  std::size_t at = 0;
  std::uint32_t x = split_seed * 2654435761u + 1;
  while (at < wire.size()) {
    x = x * 1103515245u + 12345u;
    const std::size_t chunk = split_seed == 0 ? wire.size() : 1 + (x >> 16) % 23;
    const auto n = std::min(chunk, wire.size() - at);
    const auto res = decoder.feed(std::span<char>(wire.data() + at, n), r);
    at += n;
    if (res.what != framing::decode_result::kind::more) {
      o.close_code = res.code;
      break;
    }
  }
  return o;
}

bool utf8(std::string_view s) {
  framing::utf8_validator v;
  return v.feed(s) && v.complete();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_message = 16 + 4 * std::size_t{data[0]};
  const std::uint8_t split_seed = data[1];
  const std::string wire(reinterpret_cast<const char*>(data) + 2, size - 2);

  const auto beast_says = run_beast(wire, max_message);
  for (const auto& m : beast_says.messages)
    if (m.first && !utf8(m.second)) return 0;  // Beast's empty-final-frame deviation
  const auto ours = run_ours(wire, max_message, split_seed);

  if (ours.messages.size() != beast_says.messages.size())
    broken("message count differs", ours.messages.size());
  for (std::size_t i = 0; i < ours.messages.size(); ++i)
    if (ours.messages[i] != beast_says.messages[i]) broken("message differs", i);
  if (ours.pings != beast_says.pings) broken("pongs differ", ours.pings.size());
  if (ours.close_code != beast_says.close_code) {
    std::fprintf(stderr, "close: ours %u, Beast %u\n", ours.close_code, beast_says.close_code);
    broken("close code differs", 0);
  }
  return 0;
}
