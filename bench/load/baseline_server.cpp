// bench-baseline: the floor under any STOMP broker on this machine. Beast WebSocket and plain
// TCP with default buffers and one strand per connection, but no STOMP: a canned CONNECTED,
// SUBSCRIBE destinations found by string search, SEND bodies forwarded as MESSAGE to every
// subscriber of the destination, receipts answered. Frames are split on NUL (the generator
// never puts NUL in a body). Not a broker: no validation, no limits, no acks.
//
// Usage: bench-baseline --ws HOST:PORT --tcp HOST:PORT --threads N  (port 0: any free port;
// the chosen ports are printed as "ws PORT" and "tcp PORT").
#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using bytes = std::shared_ptr<const std::string>;

class peer;

/// Destination → subscribed peers. User destinations are stored under their send form
/// (/user/queue/x subscribed by alice is kept as /user/alice/queue/x).
struct registry {
  std::shared_mutex mutex;
  std::unordered_map<std::string, std::vector<std::shared_ptr<peer>>> subs;
  std::atomic<std::uint64_t> next_id{0};
};

std::string_view header(std::string_view frame, std::string_view name) {
  const auto at = frame.find(name);
  if (at == std::string_view::npos) return {};
  const auto start = at + name.size();
  return frame.substr(start, frame.find('\n', start) - start);
}

/// One connection, WebSocket or TCP. Everything runs on its strand.
class peer : public std::enable_shared_from_this<peer> {
 public:
  explicit peer(registry& r) : reg_(r) {}
  virtual ~peer() = default;
  virtual void start() = 0;

  /// Queues bytes for writing. Thread-safe.
  void deliver(bytes b) {
    net::post(executor(), [self = shared_from_this(), b = std::move(b)]() mutable {
      self->queue_.push_back(std::move(b));
      if (self->queue_.size() == 1) self->write_front();
    });
  }

 protected:
  virtual net::any_io_executor executor() = 0;
  virtual void write_front() = 0;  // writes queue_.front() (TCP: may gather all of queue_)

  void on_written(const beast::error_code& ec, std::size_t count) {
    if (ec) return closed();
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    if (!queue_.empty()) write_front();
  }

  /// Splits the received bytes into NUL-terminated frames.
  void on_bytes(std::string_view in) {
    pending_.append(in);
    std::size_t start = 0, nul;
    while ((nul = pending_.find('\0', start)) != std::string::npos) {
      std::string_view frame(pending_.data() + start, nul - start);
      while (!frame.empty() && (frame.front() == '\n' || frame.front() == '\r'))
        frame.remove_prefix(1);
      if (!frame.empty()) on_frame(frame);
      start = nul + 1;
    }
    pending_.erase(0, start);
  }

  void closed() {
    if (subscribed_.empty()) return;
    std::unique_lock lock(reg_.mutex);
    for (auto& dest : subscribed_) {
      auto& v = reg_.subs[dest];
      std::erase(v, shared_from_this());
    }
    subscribed_.clear();
  }

  std::deque<bytes> queue_;

 private:
  void on_frame(std::string_view frame) {
    const auto command = frame.substr(0, frame.find('\n'));
    if (command == "CONNECT" || command == "STOMP") {
      login_ = header(frame, "\nlogin:");
      reply("CONNECTED\nversion:1.2\nheart-beat:0,0\n\n");
    } else if (command == "SUBSCRIBE") {
      subscribe(frame);
    } else if (command == "SEND") {
      forward(frame);
    }
    const auto receipt = header(frame, "\nreceipt:");
    if (!receipt.empty()) reply("RECEIPT\nreceipt-id:" + std::string(receipt) + "\n\n");
  }

  void reply(std::string text) {
    text.push_back('\0');
    queue_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (queue_.size() == 1) write_front();
  }

  void subscribe(std::string_view frame) {
    std::string dest(header(frame, "\ndestination:"));
    if (dest.rfind("/user/queue/", 0) == 0) dest = "/user/" + login_ + dest.substr(5);
    sub_id_ = header(frame, "\nid:");
    subscribed_.push_back(dest);
    std::unique_lock lock(reg_.mutex);
    reg_.subs[dest].push_back(shared_from_this());
  }

  void forward(std::string_view frame) {
    const std::string dest(header(frame, "\ndestination:"));
    const auto blank = frame.find("\n\n");
    const auto body = blank == std::string_view::npos ? std::string_view{} : frame.substr(blank + 2);
    std::vector<std::shared_ptr<peer>> targets;
    {
      std::shared_lock lock(reg_.mutex);
      auto it = reg_.subs.find(dest);
      if (it != reg_.subs.end()) targets = it->second;
    }
    if (targets.empty()) return;
    // Serialised once per distinct subscription id (the generator always uses id 0).
    bytes msg;
    std::string last_id;
    const auto id = reg_.next_id.fetch_add(1, std::memory_order_relaxed);
    for (auto& t : targets) {
      if (!msg || t->sub_id_ != last_id) {
        last_id = t->sub_id_;
        std::string m = "MESSAGE\ndestination:" + dest + "\nmessage-id:" + std::to_string(id) +
                        "\nsubscription:" + last_id + "\ncontent-length:" +
                        std::to_string(body.size()) + "\n\n";
        m.append(body);
        m.push_back('\0');
        msg = std::make_shared<const std::string>(std::move(m));
      }
      t->deliver(msg);
    }
  }

  registry& reg_;
  std::string pending_;  // bytes of an unfinished frame
  std::string login_;
  std::string sub_id_;   // id of the last SUBSCRIBE (read by other strands only after it is set)
  std::vector<std::string> subscribed_;
};

class ws_peer final : public peer {
 public:
  ws_peer(tcp::socket&& s, registry& r) : peer(r), ws_(std::move(s)) {}

  void start() override {
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::sec_websocket_protocol, "v12.stomp");
    }));
    ws_.async_accept([self = shared()](const beast::error_code& ec) {
      if (!ec) self->do_read();
    });
  }

 private:
  std::shared_ptr<ws_peer> shared() { return std::static_pointer_cast<ws_peer>(shared_from_this()); }
  net::any_io_executor executor() override { return ws_.get_executor(); }

  void do_read() {
    ws_.async_read(buffer_, [self = shared()](const beast::error_code& ec, std::size_t) {
      if (ec) return self->closed();
      const auto d = self->buffer_.cdata();
      self->on_bytes({static_cast<const char*>(d.data()), d.size()});
      self->buffer_.consume(self->buffer_.size());
      self->do_read();
    });
  }

  void write_front() override {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    [self = shared()](const beast::error_code& ec, std::size_t) {
                      self->on_written(ec, 1);
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

class tcp_peer final : public peer {
 public:
  tcp_peer(tcp::socket&& s, registry& r) : peer(r), stream_(std::move(s)) {}
  void start() override { do_read(); }

 private:
  std::shared_ptr<tcp_peer> shared() { return std::static_pointer_cast<tcp_peer>(shared_from_this()); }
  net::any_io_executor executor() override { return stream_.get_executor(); }

  void do_read() {
    stream_.async_read_some(net::buffer(read_buf_),
                            [self = shared()](const beast::error_code& ec, std::size_t n) {
                              if (ec) return self->closed();
                              self->on_bytes({self->read_buf_, n});
                              self->do_read();
                            });
  }

  void write_front() override {
    std::vector<net::const_buffer> bufs;  // gather the whole queue into one write
    for (auto& b : queue_) bufs.push_back(net::buffer(*b));
    net::async_write(stream_, bufs, [self = shared(), n = queue_.size()](
                                        const beast::error_code& ec, std::size_t) {
      self->on_written(ec, n);
    });
  }

  beast::tcp_stream stream_;
  char read_buf_[4096];
};

template <class Peer>
void do_accept(tcp::acceptor& acceptor, net::io_context& ioc, registry& reg) {
  acceptor.async_accept(net::make_strand(ioc), [&](const beast::error_code& ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<Peer>(std::move(s), reg)->start();
    }
    do_accept<Peer>(acceptor, ioc, reg);
  });
}

tcp::endpoint parse_endpoint(const std::string& s) {
  const auto colon = s.rfind(':');
  return {net::ip::make_address(s.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(s.substr(colon + 1)))};
}

void open_acceptor(tcp::acceptor& a, const tcp::endpoint& ep) {
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(net::socket_base::max_listen_connections);
}

}  // namespace

int main(int argc, char** argv) {
  std::string ws = "127.0.0.1:15674", tcp_addr = "127.0.0.1:61613";
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--ws") ws = argv[i + 1];
    else if (flag == "--tcp") tcp_addr = argv[i + 1];
    else if (flag == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    else return std::fprintf(stderr, "usage: bench-baseline --ws H:P --tcp H:P --threads N\n"), 2;
  }
  try {
    net::io_context ioc(threads);
    registry reg;
    tcp::acceptor ws_acceptor(ioc), tcp_acceptor(ioc);
    open_acceptor(ws_acceptor, parse_endpoint(ws));
    open_acceptor(tcp_acceptor, parse_endpoint(tcp_addr));
    std::printf("ws %u\ntcp %u\n", ws_acceptor.local_endpoint().port(),
                tcp_acceptor.local_endpoint().port());
    std::fflush(stdout);
    do_accept<ws_peer>(ws_acceptor, ioc, reg);
    do_accept<tcp_peer>(tcp_acceptor, ioc, reg);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-baseline: %s\n", e.what());
    return 1;
  }
}
