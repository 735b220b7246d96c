#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "transport/detail/admission.hpp"

namespace transport::detail {

/// The byte stream of one HTTP exchange under the SockJS prefix, plain or TLS, taken over from
/// the connection that read the request head. Type-erased so SockJS code is written once.
/// Not thread-safe: whoever holds it runs every call on one strand and passes that strand as
/// `ex`, which runs the completion handlers (a stream may move to a session's strand between
/// calls, never during one). Kept alive by its pending operations. Holds the admission place of
/// its socket until the socket is closed.
class sockjs_stream : public std::enable_shared_from_this<sockjs_stream> {
 public:
  using handler = std::function<void(const boost::system::error_code&)>;
  using body_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  virtual ~sockjs_stream() = default;

  /// Reads the rest of the request (its body) into `parser`, then calls `done` on `ex`. A body
  /// not complete within `deadline` closes the socket (`done` then gets the read's error).
  virtual void read_body(body_parser& parser, std::chrono::milliseconds deadline,
                         boost::asio::any_io_executor ex, handler done) = 0;
  /// Writes `bytes` (owned until done), then calls `done` on `ex`.
  virtual void write(std::string bytes, boost::asio::any_io_executor ex, handler done) = 0;
  /// Reads and discards until the peer closes or fails, then calls `done` on `ex`: how a
  /// long-held response learns that its client has gone. At most one at a time.
  virtual void watch(boost::asio::any_io_executor ex, handler done) = 0;
  /// Ends the exchange (TLS: close_notify, bounded by `grace`), then closes the socket; a
  /// pending watch completes with an error. Idempotent.
  virtual void end(std::chrono::milliseconds grace) = 0;
  /// Hands over the admission place of the socket (empty once taken): a request that carries a
  /// SockJS session rides on the session's place, or becomes it.
  virtual admission_ticket take_ticket() noexcept = 0;
  /// True over TLS (cookies set on the answer may then be `Secure`).
  virtual bool secure() const noexcept = 0;
};

/// sockjs_stream over `Stream`: a plain socket (tcp::socket or a type derived from it) or an
/// ssl::stream<tcp::socket>.
template <class Stream>
class basic_sockjs_stream final : public sockjs_stream {
  static constexpr bool is_tls = !std::is_base_of_v<boost::asio::ip::tcp::socket, Stream>;

 public:
  basic_sockjs_stream(Stream&& s, boost::beast::flat_buffer&& buffer, admission_ticket ticket)
      : stream_(std::move(s)),
        buffer_(std::move(buffer)),
        timer_(boost::beast::get_lowest_layer(stream_).get_executor()),
        ticket_(std::move(ticket)) {}

  // The timer is free while a body is read: end() (TLS grace) comes only after.
  void read_body(body_parser& parser, std::chrono::milliseconds deadline,
                 boost::asio::any_io_executor ex, handler done) override {
    timer_.expires_after(deadline);
    timer_.async_wait([self = self()](const boost::system::error_code& e) {
      if (!e) self->close_socket();  // a body trickled or never finished: cut
    });
    boost::beast::http::async_read(
        stream_, buffer_, parser,
        boost::asio::bind_executor(ex, [self = self(), done = std::move(done)](
                                           const boost::system::error_code& ec, std::size_t) {
          self->timer_.cancel();
          done(ec);
        }));
  }

  admission_ticket take_ticket() noexcept override { return std::move(ticket_); }

  bool secure() const noexcept override { return is_tls; }

  void write(std::string bytes, boost::asio::any_io_executor ex, handler done) override {
    auto data = std::make_shared<std::string>(std::move(bytes));
    boost::asio::async_write(
        stream_, boost::asio::buffer(*data),
        boost::asio::bind_executor(ex, [self = shared_from_this(), data, done = std::move(done)](
                                           const boost::system::error_code& ec, std::size_t) {
          done(ec);
        }));
  }

  void watch(boost::asio::any_io_executor ex, handler done) override {
    stream_.async_read_some(
        boost::asio::buffer(scratch_),
        boost::asio::bind_executor(ex, [self = shared_from_this(), ex, done = std::move(done)](
                                           const boost::system::error_code& ec, std::size_t) {
          if (!ec) return self->watch(ex, std::move(done));  // bytes after the request: ignored
          done(ec);
        }));
  }

  void end(std::chrono::milliseconds grace) override {
    if (ended_) return;
    ended_ = true;
    auto& socket = boost::beast::get_lowest_layer(stream_);
    boost::system::error_code ec;
    if constexpr (is_tls) {
      socket.cancel(ec);  // the watch's read must not race the shutdown's own read
      timer_.expires_after(grace);
      timer_.async_wait([self = self()](const boost::system::error_code& e) {
        if (!e) self->close_socket();
      });
      stream_.async_shutdown([self = self()](const boost::system::error_code&) {
        self->timer_.cancel();
        self->close_socket();
      });
    } else {
      (void)grace;
      socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
      close_socket();
    }
  }

 private:
  std::shared_ptr<basic_sockjs_stream> self() {
    return std::static_pointer_cast<basic_sockjs_stream>(shared_from_this());
  }

  void close_socket() {
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(stream_).close(ec);
    ticket_.release();
  }

  Stream stream_;
  boost::beast::flat_buffer buffer_;  // may hold body bytes read along with the head
  boost::asio::steady_timer timer_;
  std::array<char, 512> scratch_{};
  bool ended_ = false;
  admission_ticket ticket_;  // the socket's place in the connection limits, until closed
};

/// Wraps a stream (the bytes already read past the request head, and the socket's admission
/// place) for SockJS and the publish API.
template <class Stream>
std::shared_ptr<sockjs_stream> make_sockjs_stream(Stream&& s, boost::beast::flat_buffer&& buffer,
                                                  admission_ticket ticket) {
  return std::make_shared<basic_sockjs_stream<std::decay_t<Stream>>>(
      std::move(s), std::move(buffer), std::move(ticket));
}

}  // namespace transport::detail
