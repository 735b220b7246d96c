#include "transport/detail/listener.hpp"

#include <cerrno>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "transport/detail/fail.hpp"

namespace transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

listener::listener(net::io_context& ioc, const std::string& host, std::uint16_t port, int backlog,
                   accept_fn on_accept)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      backoff_(acceptor_.get_executor()),
      on_accept_(std::move(on_accept)) {
  const tcp::endpoint endpoint(net::ip::make_address(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(backlog);
  port_ = acceptor_.local_endpoint().port();
}

void listener::run() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
  });
}

void listener::do_accept() {
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(next_loop_ ? next_loop_() : ioc_),
                         [self = shared_from_this()](const boost::system::error_code& ec,
                                                     tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void listener::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec == net::error::no_descriptors || ec.value() == ENFILE) return on_out_of_descriptors(ec);
  if (ec) {
    fail(ec, "accept", "listener");
    return retry_later();
  }
  on_accept_(std::move(socket));
  do_accept();
}

// accept() keeps failing while the process is at its descriptor limit, and the waiting peer
// stays in the backlog: retrying at once would spin. Spend the reserve descriptor on that peer
// (answer it, close it, take the reserve back) and go on; without a reserve, or when no peer
// was waiting after all, pause. Open connections are never touched.
void listener::on_out_of_descriptors(const boost::system::error_code& ec) {
  std::uint64_t suppressed = 0;
  if (fd_log_.allow(suppressed)) {
    spdlog::warn("accept on port {}: {}: refusing new connections ({} more since the last line)",
                 port_, ec.message(), suppressed);
  }
  if (!reserve_.held()) reserve_.restore();
  if (!reserve_.release()) return retry_later();
  boost::system::error_code aec;
  tcp::socket peer(ioc_);
  acceptor_.non_blocking(true, aec);  // the sync accept below must not wait for a peer
  if (!aec) acceptor_.accept(peer, aec);
  if (!aec) {
    if (on_fd_limit_) on_fd_limit_(peer);
    peer.close(aec);
  }
  if (reserve_.restore() && !aec) return do_accept();
  retry_later();
}

void listener::retry_later() {
  backoff_.expires_after(std::chrono::milliseconds(100));
  backoff_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    if (!e) self->do_accept();
  });
}

}  // namespace transport::detail
