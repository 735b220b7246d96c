#include "transport/detail/metrics_http.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "transport/detail/endpoint.hpp"
#include "transport/detail/fail.hpp"
#include "transport/server.hpp"

namespace transport::detail {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::chrono::seconds request_timeout{10};
constexpr std::uint32_t max_header_bytes = 8 * 1024;

/// One keep-alive HTTP connection to the metrics listener [Beast's http_server_async].
class metrics_session : public std::enable_shared_from_this<metrics_session> {
 public:
  metrics_session(tcp::socket s, metrics_route route, std::shared_ptr<metrics_connections> all)
      : stream_(std::move(s)), route_(std::move(route)), all_(std::move(all)) {}

  ~metrics_session() { all_->remove(key_); }

  void start() {
    remote_ = remote_of(stream_.socket());
    key_ = all_->add([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        boost::asio::post(self->stream_.get_executor(), [self] {
          error_code ignored;
          self->stream_.socket().close(ignored);
        });
      }
    });
    do_read();
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(max_header_bytes);
    parser_->body_limit(0);
    stream_.expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(const error_code& ec) {
    if (ec) {
      if (ec != http::error::end_of_stream) fail(ec, "metrics read", "metrics");
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    const auto& req = parser_->get();
    const auto method = req.method();
    if (method != http::verb::get && method != http::verb::head && method != http::verb::post) {
      metrics_reply r{405, "text/plain; charset=utf-8", "GET, HEAD or POST only\n", {}};
      r.headers.emplace_back("Allow", "GET, HEAD, POST");
      return respond(std::move(r));
    }
    // The answer may come from another thread (a gather over connection strands): back to ours.
    route_(request_of(req), [self = shared_from_this()](metrics_reply r) {
      boost::asio::post(self->stream_.get_executor(),
                        [self, r = std::move(r)]() mutable { self->respond(std::move(r)); });
    });
  }

  metrics_request request_of(const http::request<http::empty_body>& req) const {
    auto text = [&](http::field f) {
      const auto v = req[f];
      return std::string(v.data(), v.size());
    };
    return {std::string(req.method_string()), std::string(req.target()),
            text(http::field::authorization), text(http::field::origin), text(http::field::host),
            text(http::field::content_type), remote_};
  }

  void respond(metrics_reply r) {
    const auto& req = parser_->get();
    response_.emplace();
    response_->version(req.version());
    response_->set(http::field::server, std::string("stompbox/") + transport::version());
    response_->result(r.status);
    response_->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response_->set(name, value);
    response_->body() = std::move(r.body);
    response_->keep_alive(req.keep_alive());
    response_->prepare_payload();
    if (req.method() == http::verb::head) response_->body().clear();
    stream_.expires_after(request_timeout);  // the write's own time, however long the answer took
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](const error_code& e, std::size_t) {
                        self->on_write(e);
                      });
  }

  void on_write(const error_code& ec) {
    if (ec) return fail(ec, "metrics write", "metrics");
    const bool keep = response_->keep_alive();
    response_.reset();
    if (keep) return do_read();
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  metrics_route route_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::shared_ptr<metrics_connections> all_;
  std::uint64_t key_ = 0;
  std::string remote_;
};

}  // namespace

std::uint64_t metrics_connections::add(std::function<void()> close) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    close();
    return 0;
  }
  open_.emplace(++next_, std::move(close));
  return next_;
}

void metrics_connections::remove(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  open_.erase(key);
}

void metrics_connections::close_all() {
  std::map<std::uint64_t, std::function<void()>> open;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    open.swap(open_);
  }
  for (auto& [key, close] : open) close();
}

void serve_metrics_http(tcp::socket socket, metrics_route route,
                        std::shared_ptr<metrics_connections> connections) {
  std::make_shared<metrics_session>(std::move(socket), std::move(route), std::move(connections))
      ->start();
}

}  // namespace transport::detail
