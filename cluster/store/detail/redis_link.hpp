#pragma once
// One blocking hiredis connection with a command timeout, and the URL it is opened from. Not
// thread-safe: each link is used by one thread at a time (the owner serialises). Any I/O error
// or timeout closes the link (a hiredis context is unusable after one); `connect` reopens it.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

struct redisContext;
struct redisReply;

namespace cluster::detail {

/// Where Redis is: parsed from `redis://[[user]:password@]host[:port][/db]`.
struct redis_endpoint {
  std::string host = "127.0.0.1";  ///< name or address
  int port = 6379;                 ///< TCP port
  int db = 0;                      ///< SELECTed after connecting
  std::string user;                ///< AUTH user (Redis 6 ACL); empty = default user
  std::string password;            ///< AUTH password; empty = no AUTH
};

/// Parses `url`; nullopt (and `why`) when it is not a redis:// URL of the form above.
std::optional<redis_endpoint> parse_redis_url(std::string_view url, std::string& why);

/// Frees a hiredis reply.
struct reply_deleter {
  void operator()(redisReply* r) const noexcept;  ///< freeReplyObject
};
/// A reply owned by the caller.
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/// Maps an error reply ("-OOM ...", "-READONLY ...", "-LOADING ...") to a broker::store::error.
std::error_code error_of_reply(const redisReply& r);

/// One blocking connection.
class redis_link {
 public:
  /// Does not connect: call connect(). `timeout` bounds the connect and every reply.
  redis_link(redis_endpoint where, std::chrono::milliseconds timeout);
  ~redis_link();
  redis_link(const redis_link&) = delete;
  redis_link& operator=(const redis_link&) = delete;

  /// (Re)connects, then AUTH and SELECT as the endpoint says. Empty on success.
  std::error_code connect();
  /// True while the connection is usable (no I/O error since connect()).
  bool connected() const noexcept { return ctx_ != nullptr; }
  /// Drops the connection.
  void close() noexcept;

  /// Queues one command (binary-safe arguments) in the output buffer; nothing is sent yet.
  void append(const std::vector<std::string_view>& args);
  /// Sends what is queued (first call) and reads the next reply. On an I/O error or timeout
  /// returns null with `ec` set and closes the link. An error *reply* is returned as a reply.
  reply_ptr read_reply(std::error_code& ec);
  /// append + read_reply for a single command.
  reply_ptr command(const std::vector<std::string_view>& args, std::error_code& ec);

  /// hiredis's message for the last failure (for logs).
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  std::error_code fail(std::error_code ec, std::string_view what);

  redis_endpoint where_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
};

}  // namespace cluster::detail
