#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "transport/detail/fd_reserve.hpp"
#include "transport/detail/log_throttle.hpp"

namespace transport::detail {

/// Accepts sockets on one address, each onto a strand of its own, and hands them to `on_accept`.
/// Thread-safe: runs on its own strand; stop() may be called from any thread.
class listener : public std::enable_shared_from_this<listener> {
 public:
  using accept_fn = std::function<void(boost::asio::ip::tcp::socket)>;
  /// Answers and closes a peer accepted with the reserve descriptor; must not block.
  using refuse_fn = std::function<void(boost::asio::ip::tcp::socket&)>;

  /// Binds and listens at once: throws std::system_error on failure (start-up only).
  listener(boost::asio::io_context& ioc, const std::string& host, std::uint16_t port, int backlog,
           accept_fn on_accept);

  /// Sets what tells a peer "no" when the process is out of descriptors (before run()).
  /// Without it such a peer is closed without a word.
  void on_fd_limit(refuse_fn fn) { on_fd_limit_ = std::move(fn); }
  /// Sets the event loop each accepted socket is to run on (before run()); without it, ours.
  void place_on(std::function<boost::asio::io_context&()> next_loop) {
    next_loop_ = std::move(next_loop);
  }
  /// Starts the accept loop.
  void run();
  /// Closes the acceptor (asynchronously, on its strand).
  void stop();
  /// The bound port (the real one when 0 was asked for).
  std::uint16_t port() const noexcept { return port_; }

 private:
  void do_accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void on_out_of_descriptors(const boost::system::error_code& ec);
  void retry_later();

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  accept_fn on_accept_;
  refuse_fn on_fd_limit_;
  std::function<boost::asio::io_context&()> next_loop_;
  fd_reserve reserve_;
  log_throttle fd_log_;
  std::uint16_t port_ = 0;
};

}  // namespace transport::detail
