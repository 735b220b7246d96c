#include "cluster/redis/stream.hpp"

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace cluster::redis {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

std::shared_ptr<ssl::context> make_tls_context(const options& o, std::string& why) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (o.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else if (ctx->load_verify_file(o.ca_file, ec); ec) {
    why = "cannot load the Redis TLS CA file '" + o.ca_file + "': " + ec.message();
    return nullptr;
  }
  if (!o.cert_file.empty()) {
    if (ctx->use_certificate_chain_file(o.cert_file, ec); ec) {
      why = "cannot load the Redis TLS certificate '" + o.cert_file + "': " + ec.message();
      return nullptr;
    }
    if (ctx->use_private_key_file(o.key_file, ssl::context::pem, ec); ec) {
      why = "cannot load the Redis TLS key '" + o.key_file + "': " + ec.message();
      return nullptr;
    }
  }
  return ctx;
}

std::string encode(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  const int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (len < 0) throw std::bad_alloc();
  std::string out(cmd, static_cast<std::size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

stream::stream(asio::any_io_executor ex, std::shared_ptr<ssl::context> tls)
    : socket_(ex), tls_context_(std::move(tls)), deadline_(ex), reader_(redisReaderCreate()),
      buffer_(16 * 1024) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

stream::~stream() { redisReaderFree(reader_); }

std::error_code stream::failed(const std::error_code& ec) const {
  if (timed_out_) return std::make_error_code(std::errc::timed_out);
  return ec;
}

void stream::expires_after(std::chrono::steady_clock::duration d) {
  deadline_.expires_after(d);
  deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timed_out_ = true;
    self->close();
  });
}

void stream::expires_never() { deadline_.cancel(); }

void stream::close() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

stream::awaitable<std::error_code> stream::connect(address a) {
  boost::system::error_code ec;
  auto on_error = asio::redirect_error(asio::use_awaitable, ec);
  tcp::resolver resolver(socket_.get_executor());
  const auto found = co_await resolver.async_resolve(a.host, std::to_string(a.port), on_error);
  if (ec) co_return failed(ec);
  co_await asio::async_connect(socket_, found, on_error);
  if (ec) co_return failed(ec);
  socket_.set_option(tcp::no_delay(true), ec);
  // A peer that vanished is noticed even on a connection that only listens (the subscriber's).
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
  co_return failed({});
}

stream::awaitable<std::error_code> stream::start_tls(std::string name) {
  boost::system::error_code ec;
  auto on_error = asio::redirect_error(asio::use_awaitable, ec);
  tls_.emplace(socket_, *tls_context_);
  // SNI (a name, not an address) and the name the certificate must carry.
  if (!SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str())) {
    co_return std::make_error_code(std::errc::invalid_argument);
  }
  tls_->set_verify_callback(ssl::host_name_verification(name));
  co_await tls_->async_handshake(ssl::stream_base::client, on_error);
  co_return failed(ec);
}

stream::awaitable<std::error_code> stream::write(std::string bytes) {
  boost::system::error_code ec;
  auto on_error = asio::redirect_error(asio::use_awaitable, ec);
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), on_error);
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), on_error);
  }
  co_return failed(ec);
}

stream::awaitable<stream::result> stream::read() {
  boost::system::error_code ec;
  auto on_error = asio::redirect_error(asio::use_awaitable, ec);
  while (true) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
      co_return result{nullptr, std::make_error_code(std::errc::protocol_error)};
    }
    if (raw != nullptr) co_return result{reply_ptr(static_cast<redisReply*>(raw)), {}};
    std::size_t n = 0;
    if (tls_) {
      n = co_await tls_->async_read_some(asio::buffer(buffer_), on_error);
    } else {
      n = co_await socket_.async_read_some(asio::buffer(buffer_), on_error);
    }
    if (ec) co_return result{nullptr, failed(ec)};
    redisReaderFeed(reader_, buffer_.data(), n);
  }
}

stream::awaitable<stream::result> stream::command(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  if (auto ec = co_await write(encode(views))) co_return result{nullptr, ec};
  co_return co_await read();
}

}  // namespace cluster::redis
