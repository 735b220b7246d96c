#include "transport/detail/metrics_http.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

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
    response_.emplace();
    response_->version(req.version());
    response_->set(http::field::server, std::string("stompbox/") + transport::version());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      response_->result(http::status::method_not_allowed);
      response_->set(http::field::allow, "GET, HEAD");
      response_->set(http::field::content_type, "text/plain; charset=utf-8");
      response_->body() = "GET only\n";
    } else {
      metrics_reply r = route_({req.target().data(), req.target().size()});
      response_->result(r.status);
      response_->set(http::field::content_type, r.content_type);
      response_->body() = std::move(r.body);
    }
    response_->keep_alive(req.keep_alive());
    response_->prepare_payload();
    if (req.method() == http::verb::head) response_->body().clear();
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
