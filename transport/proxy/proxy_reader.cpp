#include "transport/proxy/proxy_reader.hpp"

#include <memory>
#include <string>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>

namespace transport::proxy {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

/// Reads in the steps the parser asks for: at most 8 bytes, then one byte at a time through
/// a v1 line (107 bytes at most), or the 16-byte v2 prefix and then its announced length. A
/// few small reads per connection, and never a byte of what follows the header.
class header_reader : public std::enable_shared_from_this<header_reader> {
 public:
  header_reader(tcp::socket s, std::chrono::milliseconds timeout, header_read_fn done)
      : socket_(std::move(s)), timer_(socket_.get_executor()), done_(std::move(done)) {
    timer_.expires_after(timeout);
  }

  void run() {
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return;
      error_code ignored;
      self->socket_.cancel(ignored);  // the pending read ends with operation_aborted
      self->timed_out_ = true;
    });
    step();
  }

 private:
  void step() {
    // The deadline may have passed between two reads, with no read pending to cancel.
    if (timed_out_) return finish(net::error::timed_out, {});
    const auto header = parse_proxy_header(bytes_);
    if (header.state != proxy_header::status::need_more) return finish({}, header);
    const auto have = bytes_.size();
    bytes_.resize(have + header.need);
    net::async_read(socket_, net::buffer(bytes_.data() + have, header.need),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (ec) return self->finish(self->timed_out_ ? net::error::timed_out : ec, {});
                      self->step();
                    });
  }

  void finish(const error_code& ec, const proxy_header& header) {
    timer_.cancel();
    done_(ec, header, std::move(socket_));
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  header_read_fn done_;
  std::string bytes_;
  bool timed_out_ = false;
};

}  // namespace

void read_proxy_header(tcp::socket socket, std::chrono::milliseconds timeout, header_read_fn done) {
  std::make_shared<header_reader>(std::move(socket), timeout, std::move(done))->run();
}

}  // namespace transport::proxy
