// The generator's client connection. Kept lean: the generator must not be the bottleneck, so
// frames are parsed with our own codec into one reused stomp::frame, and TCP writes gather the
// whole queue into one buffer.
#include "bench/load/stomp_client.hpp"

#include <charconv>
#include <netinet/in.h>
#include <sys/socket.h>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace load {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

bool parse_host_port(std::string_view s, target& out) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(s.data() + colon + 1, s.data() + s.size(), port);
  if (ec != std::errc{} || end != s.data() + s.size() || port == 0 || port > 65535) return false;
  out.host = std::string(s.substr(0, colon));
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

}  // namespace

bool parse_ws_url(const std::string& url, target& out) {
  constexpr std::string_view scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return false;
  std::string_view rest(url);
  rest.remove_prefix(scheme.size());
  const auto slash = rest.find('/');
  out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  out.websocket = true;
  return parse_host_port(rest.substr(0, slash), out);
}

bool parse_tcp_address(const std::string& address, target& out) {
  out.websocket = false;
  return parse_host_port(address, out);
}

stomp_client::stomp_client(net::io_context& ioc, const target& where)
    : strand_(net::make_strand(ioc)), where_(where), heartbeat_(strand_) {
  if (where_.websocket)
    ws_.emplace(strand_);
  else
    tcp_.emplace(strand_);
}

void stomp_client::start(const net::ip::address& source, std::string connect_frame) {
  queue_.push_back(std::move(connect_frame));
  beast::tcp_stream& stream = ws_ ? beast::get_lowest_layer(*ws_) : *tcp_;
  boost::system::error_code ec;
  auto& socket = stream.socket();
  socket.open(tcp::v4(), ec);
  if (!ec) {
    // Defer the port choice to connect(): the 4-tuple, not the source port alone, must be
    // unique, so 250 source addresses give far more than 28k connections.
    int one = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    socket.bind(tcp::endpoint(source, 0), ec);
  }
  if (ec) return net::post(strand_, [self = shared_from_this(), ec] { self->fail(ec, "bind"); });
  const tcp::endpoint peer(net::ip::make_address(where_.host), where_.port);
  stream.expires_after(std::chrono::seconds(30));
  stream.async_connect(peer, beast::bind_front_handler(&stomp_client::on_connect,
                                                       shared_from_this()));
}

void stomp_client::on_connect(const boost::system::error_code& ec) {
  if (ec) return fail(ec, "connect");
  beast::tcp_stream& stream = ws_ ? beast::get_lowest_layer(*ws_) : *tcp_;
  stream.socket().set_option(tcp::no_delay(true));
  if (!ws_) {
    stream.expires_never();
    return on_handshake({});
  }
  ws_->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "v12.stomp");
  }));
  ws_->async_handshake(where_.host + ":" + std::to_string(where_.port), where_.path,
                       beast::bind_front_handler(&stomp_client::on_handshake,
                                                 shared_from_this()));
}

void stomp_client::on_handshake(const boost::system::error_code& ec) {
  if (ec) return fail(ec, "websocket handshake");
  if (ws_) {
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->text(true);
  }
  open_ = true;
  do_write();
  do_read();
}

void stomp_client::do_read() {
  auto handler = beast::bind_front_handler(&stomp_client::on_read, shared_from_this());
  if (ws_) return ws_->async_read(buffer_, std::move(handler));
  tcp_->async_read_some(buffer_.prepare(64 * 1024), std::move(handler));
}

void stomp_client::on_read(const boost::system::error_code& ec, std::size_t bytes) {
  if (ec) return fail(ec, "read");
  if (tcp_) buffer_.commit(bytes);
  const auto data = buffer_.cdata();
  std::string_view input(static_cast<const char*>(data.data()), data.size());
  while (!input.empty() && !closed_) {
    const auto status = parser_.feed(input, frame_);
    if (status == stomp::parse_status::error) {
      closed_ = true;
      if (on_fail) on_fail(*this, "unparsable frame from broker: " + parser_.error().message());
      return;
    }
    if (status == stomp::parse_status::need_more) break;
    if (frame_.command == "CONNECTED") parser_.set_version(stomp::version::v1_2);
    if (on_frame) on_frame(*this, frame_);
  }
  buffer_.consume(buffer_.size());
  if (!closed_) do_read();
}

void stomp_client::send(std::string bytes) {
  net::dispatch(strand_, [self = shared_from_this(), b = std::move(bytes)]() mutable {
    if (self->closed_) return;
    self->queue_.push_back(std::move(b));
    self->do_write();
  });
}

void stomp_client::do_write() {
  if (writing_ || !open_ || queue_.empty() || closed_) return;
  writing_ = true;
  auto handler = beast::bind_front_handler(&stomp_client::on_write, shared_from_this());
  if (ws_) {
    in_flight_ = 1;
    return ws_->async_write(net::buffer(queue_.front()), std::move(handler));
  }
  in_flight_ = queue_.size();
  gathered_.clear();
  for (auto& f : queue_) gathered_ += f;
  net::async_write(*tcp_, net::buffer(gathered_), std::move(handler));
}

void stomp_client::on_write(const boost::system::error_code& ec, std::size_t) {
  writing_ = false;
  if (ec) return fail(ec, "write");
  // Frames queued during the write wait for the next one.
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
  do_write();
}

void stomp_client::start_heartbeat(std::chrono::milliseconds interval) {
  heartbeat_interval_ = interval;
  if (interval.count() > 0) do_heartbeat();
}

void stomp_client::do_heartbeat() {
  heartbeat_.expires_after(heartbeat_interval_);
  heartbeat_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    if (self->queue_.empty()) self->send("\n");  // any frame counts; send EOL only when idle
    self->do_heartbeat();
  });
}

void stomp_client::close() {
  net::dispatch(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->heartbeat_.cancel();
    beast::tcp_stream& stream = self->ws_ ? beast::get_lowest_layer(*self->ws_) : *self->tcp_;
    boost::system::error_code ignored;
    stream.socket().close(ignored);
  });
}

void stomp_client::fail(const boost::system::error_code& ec, const char* what) {
  if (closed_) return;
  closed_ = true;
  heartbeat_.cancel();
  if (on_fail) on_fail(*this, std::string(what) + ": " + ec.message());
}

}  // namespace load
