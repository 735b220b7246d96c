#include "tests/support/stomp_client.hpp"

#include <array>
#include <stdexcept>
#include <type_traits>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "stomp/serializer.hpp"

namespace test_support {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

client::~client() = default;

void client::send_frame(const stomp::frame& f, bool binary) {
  send_bytes(stomp::serialize(f, stomp::version::v1_2), binary);
}

std::optional<stomp::frame> client::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string_view in(pending_);
    stomp::frame f;
    const auto status = parser_.feed(in, f);
    pending_ = std::string(in);
    if (status == stomp::parse_status::frame) return f;
    if (status == stomp::parse_status::error) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto chunk = read_chunk(left);
    if (!chunk) return std::nullopt;
    pending_ += *chunk;
  }
}

std::optional<stomp::frame> client::connect(std::vector<stomp::header> extra, std::string login) {
  auto f = make_frame("CONNECT", {{"accept-version", "1.0,1.1,1.2"}, {"host", "/"}});
  if (!login.empty()) f.add("login", login);
  for (auto& h : extra) f.set(h.name, h.value);
  send_frame(f);
  return read_frame();
}

bool client::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (auto f = read_frame(left)) before_close_.push_back(std::move(*f));
    else if (!closed_) return false;
  }
  return true;
}

stomp::frame make_frame(std::string command, std::vector<stomp::header> headers, std::string body) {
  stomp::frame f;
  f.command = std::move(command);
  f.headers = std::move(headers);
  f.body = std::move(body);
  return f;
}

namespace {

ssl::context& client_tls_context() {
  static ssl::context ctx = [] {
    ssl::context c(ssl::context::tls_client);
    c.set_verify_mode(ssl::verify_none);  // the test certificate is self-signed
    return c;
  }();
  return ctx;
}

/// Runs the io_context until `done` or the timeout; on timeout cancels by closing the socket.
template <class Lowest>
bool run_until(net::io_context& ioc, Lowest& socket, const bool& done,
               std::chrono::milliseconds timeout) {
  ioc.restart();
  ioc.run_for(timeout);
  if (done) return true;
  error_code ec;
  socket.close(ec);
  ioc.restart();
  ioc.run();
  return false;
}

template <class Stream>
class tcp_client final : public client {
  static constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

 public:
  tcp_client(std::uint16_t port, int receive_buffer) : stream_(make_stream()) {
    auto& socket = beast::get_lowest_layer(stream_);
    socket.open(tcp::v4());
    if (receive_buffer > 0) socket.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    if constexpr (is_tls) stream_.handshake(ssl::stream_base::client);
  }

  void send_bytes(std::string_view bytes, bool) override {
    net::write(stream_, net::buffer(bytes.data(), bytes.size()));
  }

  std::optional<std::string> read_chunk(std::chrono::milliseconds timeout) override {
    if (closed_) return std::nullopt;
    bool done = false;
    error_code result;
    std::size_t got = 0;
    stream_.async_read_some(net::buffer(buffer_), [&](const error_code& ec, std::size_t n) {
      done = true;
      result = ec;
      got = n;
    });
    if (!run_until(ioc_, beast::get_lowest_layer(stream_), done, timeout)) return std::nullopt;
    if (result) {
      closed_ = true;
      last_error_ = result.message();
      error_code ignored;
      beast::get_lowest_layer(stream_).close(ignored);  // as a real client does on EOF
      return std::nullopt;
    }
    return std::string(buffer_.data(), got);
  }

 private:
  Stream make_stream() {
    if constexpr (is_tls) {
      return Stream(ioc_, client_tls_context());
    } else {
      return Stream(ioc_);
    }
  }

  net::io_context ioc_;
  Stream stream_;
  std::array<char, 64 * 1024> buffer_{};
};

template <class Next>
class ws_client final : public client {
  static constexpr bool is_tls = !std::is_same_v<Next, tcp::socket>;

 public:
  ws_client(std::uint16_t port, const ws_options& opts) : ws_(make_next()) {
    beast::get_lowest_layer(ws_).connect({net::ip::make_address("127.0.0.1"), port});
    if constexpr (is_tls) ws_.next_layer().handshake(ssl::stream_base::client);
    ws_.set_option(websocket::stream_base::decorator([opts](websocket::request_type& req) {
      for (const auto& line : opts.protocol_lines)
        req.insert(http::field::sec_websocket_protocol, line);
      for (const auto& [name, value] : opts.headers) req.insert(name, value);
    }));
    ws_.read_message_max(64 * 1024 * 1024);
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1", opts.target);
    subprotocol = std::string(res[http::field::sec_websocket_protocol]);
  }

  void send_bytes(std::string_view bytes, bool binary) override {
    ws_.binary(binary);
    ws_.write(net::buffer(bytes.data(), bytes.size()));
  }

  std::optional<std::string> read_chunk(std::chrono::milliseconds timeout) override {
    if (closed_) return std::nullopt;
    bool done = false;
    error_code result;
    beast::flat_buffer buffer;
    ws_.async_read(buffer, [&](const error_code& ec, std::size_t) {
      done = true;
      result = ec;
    });
    if (!run_until(ioc_, beast::get_lowest_layer(ws_), done, timeout)) return std::nullopt;
    if (result) {
      closed_ = true;
      if (result == websocket::error::closed) close_code_ = ws_.reason().code;
      else last_error_ = result.message();
      return std::nullopt;
    }
    binary_ = ws_.got_binary();
    return beast::buffers_to_string(buffer.data());
  }

  bool last_was_binary() const override { return binary_; }

  std::string subprotocol;

 private:
  Next make_next() {
    if constexpr (is_tls) {
      return Next(ioc_, client_tls_context());
    } else {
      return Next(ioc_);
    }
  }

  net::io_context ioc_;
  websocket::stream<Next> ws_;
  bool binary_ = false;
};

}  // namespace

std::unique_ptr<client> make_ws_client(std::uint16_t port, const ws_options& opts) {
  if (opts.tls) return std::make_unique<ws_client<ssl::stream<tcp::socket>>>(port, opts);
  return std::make_unique<ws_client<tcp::socket>>(port, opts);
}

std::string subprotocol_of(const client& c) {
  if (auto* p = dynamic_cast<const ws_client<tcp::socket>*>(&c)) return p->subprotocol;
  if (auto* p = dynamic_cast<const ws_client<ssl::stream<tcp::socket>>*>(&c)) return p->subprotocol;
  return {};
}

std::unique_ptr<client> make_tcp_client(std::uint16_t port, bool tls, int receive_buffer) {
  if (tls) return std::make_unique<tcp_client<ssl::stream<tcp::socket>>>(port, receive_buffer);
  return std::make_unique<tcp_client<tcp::socket>>(port, receive_buffer);
}

std::pair<unsigned, std::string> http_get(std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {res.result_int(), res.body()};
}

}  // namespace test_support
