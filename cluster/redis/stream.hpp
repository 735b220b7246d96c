#pragma once
// Bytes to and from one Redis server over a Boost.Asio TCP socket, TLS (OpenSSL) on top when
// asked; hiredis only encodes commands (redisFormatCommandArgv) and parses replies
// (redisReader): hiredis 0.14 has no TLS, and we write no RESP parser.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cluster/redis/options.hpp"
#include "cluster/redis/reply.hpp"

struct redisReader;

namespace cluster::redis {

/// The TLS settings of `o` (CA file or the system's store, client certificate and key, peer
/// verification on). Null and `why` when a file cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const options& o, std::string& why);

/// The bytes of one command (binary-safe arguments), RESP-encoded by hiredis.
std::string encode(const std::vector<std::string_view>& args);

/// One connection. Lives in a shared_ptr (its deadline timer holds a weak one); used from one
/// executor (a strand, or a private io_context) at a time, one read and one write at most.
class stream : public std::enable_shared_from_this<stream> {
 public:
  template <class T>
  using awaitable = boost::asio::awaitable<T>;
  /// A reply, or null and `ec`.
  struct result {
    reply_ptr reply;
    std::error_code ec;
  };

  /// `tls` null = plain TCP.
  stream(boost::asio::any_io_executor ex, std::shared_ptr<boost::asio::ssl::context> tls);
  ~stream();
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// Resolves and connects (TCP, no delay, keep-alive).
  awaitable<std::error_code> connect(address a);
  /// The TLS handshake (when built with a context): SNI and the certificate's name checked
  /// against `server_name`. Then every read and write is encrypted.
  awaitable<std::error_code> start_tls(std::string server_name);
  /// Writes all of `bytes`.
  awaitable<std::error_code> write(std::string bytes);
  /// The next reply: one already read, else reads until one is whole.
  awaitable<result> read();
  /// write(encode(args)) then read().
  awaitable<result> command(std::vector<std::string> args);

  /// Every pending and later operation fails after `d` (the socket is closed); reported as
  /// std::errc::timed_out.
  void expires_after(std::chrono::steady_clock::duration d);
  /// No deadline.
  void expires_never();
  /// Closes the socket: pending operations complete with an error.
  void close();

 private:
  std::error_code failed(const std::error_code& ec) const;

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::steady_timer deadline_;
  bool timed_out_ = false;
  redisReader* reader_;
  std::vector<char> buffer_;
};

}  // namespace cluster::redis
