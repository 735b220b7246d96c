#include "transport/detail/tcp_connection.hpp"

#include <array>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "transport/detail/connection_base.hpp"
#include "transport/detail/endpoint.hpp"
#include "transport/detail/server_state.hpp"

namespace transport::detail {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

/// Bytes of a plain-TCP read land here: one buffer per thread instead of one per connection,
/// so an idle connection holds no read buffer at all.
std::array<char, 64 * 1024>& shared_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

// Frames gathered into one write; bounds the iovec array asio builds per write.
constexpr std::size_t max_gather = 256;
// When several frames wait, the small ones are copied into one buffer for the write. Asio puts
// at most 64 buffers in one writev (two per frame: head and shared tail), and the TLS stream
// encrypts one buffer per write_some, so a backlog of small frames otherwise costs a syscall
// per 32 frames (per buffer over TLS); copied, a syscall carries up to 64 KiB. A larger frame
// is written from where it is. The copy never holds more than the frames it copies, which
// the pending-bytes cap already counts for this connection.
constexpr std::size_t coalesce_below = 4 * 1024;
constexpr std::size_t max_coalesced = 64 * 1024;

/// STOMP over TCP on a plain socket or a TLS stream (Beast "flex" pattern: one template).
template <class Stream>
class tcp_connection final : public connection_base {
  static constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

 public:
  template <class... Args>
  tcp_connection(tcp::socket&& socket, const std::shared_ptr<server_state>& server,
                 std::string remote, Args&&... args)
      : connection_base(socket.get_executor(), server, is_tls ? "tls" : "tcp",
                        remote.empty() ? remote_of(socket) : std::move(remote)),
        stream_(std::move(socket), std::forward<Args>(args)...) {}

 private:
  std::shared_ptr<tcp_connection> self() {
    return std::static_pointer_cast<tcp_connection>(shared_from_this());
  }
  tcp::socket& socket() {
    if constexpr (is_tls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void run() override {
    error_code ec;
    socket().set_option(tcp::no_delay(true), ec);
    socket().non_blocking(true, ec);
    if constexpr (is_tls) {
      stream_.async_handshake(ssl::stream_base::server, [self = self()](const error_code& e) {
        if (e) return self->handshake_failed(e, "tls handshake");
        self->on_open();
      });
    } else {
      on_open();
    }
  }

  void on_open() {
    open_session();
    do_read();
  }

  void do_read() {
    if (!may_read()) return;  // closing, or paused by flow control (restart_read resumes)
    if constexpr (is_tls) {
      // The TLS stream buffers records itself; read through a small per-connection buffer.
      stream_.async_read_some(buffer_.prepare(server().config.tcp_read_chunk),
                              [self = self()](const error_code& ec, std::size_t n) {
                                self->buffer_.commit(n);
                                self->on_read(ec);
                              });
    } else {
      // Wait for readability, then read into the thread's buffer: no buffer while idle.
      stream_.async_wait(tcp::socket::wait_read,
                         [self = self()](const error_code& ec) { self->on_readable(ec); });
    }
  }

  void on_readable(const error_code& wait_ec) {
    if (wait_ec) return on_read_error(wait_ec, broker::close_reason::peer_gone);
    auto& buf = shared_read_buffer();
    error_code ec;
    const auto chunk = std::min(buf.size(), server().config.tcp_read_chunk);
    const auto n = stream_.read_some(net::buffer(buf.data(), chunk), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return do_read();
    if (ec) return on_read_error(ec, broker::close_reason::peer_gone);
    {
      const hold_drains one_batch_per_read;
      deliver_read(std::string_view(buf.data(), n));
    }
    do_read();
  }

  void on_read(const error_code& ec) {
    if (ec) return on_read_error(ec, broker::close_reason::peer_gone);
    auto data = buffer_.cdata();
    deliver_read(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.clear();
    do_read();
  }

  void restart_read() override { do_read(); }

  void start_write() override {
    buffers_.clear();
    in_flight_ = std::min(queue_.size(), max_gather);
    if (in_flight_ > 1) {
      gather_coalesced();
    } else {
      add_buffers(queue_.front());
    }
    net::async_write(stream_, buffers_, [self = self()](const error_code& ec, std::size_t) {
      if (self->buffers_.capacity() > 64) self->buffers_ = {};
      // Nothing queued behind this write: an idle connection keeps no copy buffer.
      if (self->queue_.size() <= self->in_flight_) self->coalesced_ = {};
      self->on_write_done(ec);
    });
  }

  void add_buffers(const broker::outgoing& f) {
    buffers_.emplace_back(f.head.data(), f.head.size());
    if (f.tail && !f.tail->empty()) buffers_.emplace_back(f.tail->data(), f.tail->size());
  }

  static bool coalescable(const broker::outgoing& f) { return f.size() < coalesce_below; }

  // Runs of small frames become one buffer each (copies into coalesced_, sized first so it
  // never moves under the buffers pointing into it); in_flight_ ends where the copy is full.
  void gather_coalesced() {
    std::size_t copy = 0;
    std::size_t n = 0;
    for (; n < in_flight_; ++n) {
      const auto& f = queue_[n];
      if (!coalescable(f)) continue;
      if (copy + f.size() > max_coalesced) break;
      copy += f.size();
    }
    in_flight_ = n;
    coalesced_.clear();
    coalesced_.reserve(copy);
    std::size_t run_start = 0;
    const auto end_run = [&] {
      if (coalesced_.size() > run_start)
        buffers_.emplace_back(coalesced_.data() + run_start, coalesced_.size() - run_start);
      run_start = coalesced_.size();
    };
    for (std::size_t i = 0; i < in_flight_; ++i) {
      const auto& f = queue_[i];
      if (!coalescable(f)) {
        end_run();
        add_buffers(f);
        continue;
      }
      coalesced_ += f.head;
      if (f.tail) coalesced_ += *f.tail;
    }
    end_run();
  }

  void start_shutdown() override {
    if constexpr (is_tls) {
      stream_.async_shutdown([self = self()](const error_code&) { self->finish(self->reason()); });
    } else {
      error_code ec;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
      drain();
    }
  }

  // After our FIN, read and discard until the peer's EOF (bounded by close_timeout): closing
  // with unread bytes would send an RST, which can destroy our last frames (the ERROR) in
  // flight to the peer.
  void drain() {
    stream_.async_wait(tcp::socket::wait_read, [self = self()](const error_code& wait_ec) {
      auto& buf = shared_read_buffer();
      error_code ec = wait_ec;
      std::size_t n = 0;
      if (!ec) n = self->stream_.read_some(net::buffer(buf), ec);
      if (ec == net::error::would_block || ec == net::error::try_again) return self->drain();
      if (ec || n == 0) return self->finish(self->reason());
      self->drain();
    });
  }

  void cut() noexcept override {
    error_code ec;
    socket().close(ec);
  }

  Stream stream_;
  // TLS reads only (cleared after each read): a plain connection reads into the thread's
  // buffer and holds none of it.
  struct no_buffer {};
  [[no_unique_address]] std::conditional_t<is_tls, boost::beast::flat_buffer, no_buffer> buffer_;
  std::vector<net::const_buffer> buffers_;
  std::string coalesced_;  ///< small frames of the write in flight, copied (gather_coalesced)
};

}  // namespace

void start_tcp_connection(tcp::socket socket, const std::shared_ptr<server_state>& server,
                          admission_ticket ticket, std::string remote) {
  std::shared_ptr<connection_base> c;
  if (server->tls) {
    c = std::make_shared<tcp_connection<ssl::stream<tcp::socket>>>(
        std::move(socket), server, std::move(remote), *server->tls.current());
  } else {
    c = std::make_shared<tcp_connection<tcp::socket>>(std::move(socket), server,
                                                      std::move(remote));
  }
  c->hold(std::move(ticket));
  c->start();
}

}  // namespace transport::detail
