#include "cluster/store/detail/redis_link.hpp"

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>

#include "broker/store/error.hpp"
#include "cluster/redis/handshake.hpp"

namespace cluster::detail {
using namespace broker::store;  // the interface this adapter implements
namespace {

bool starts_with_word(const redisReply& r, std::string_view word) {
  return redis::reply_text(&r).starts_with(word);
}

// Sends `bytes` (if any), then reads one reply.
boost::asio::awaitable<redis::stream::result> exchange(std::shared_ptr<redis::stream> s,
                                                       std::string bytes) {
  if (!bytes.empty()) {
    if (auto ec = co_await s->write(std::move(bytes)); ec) co_return redis::stream::result{nullptr, ec};
  }
  co_return co_await s->read();
}

}  // namespace

std::error_code error_of_reply(const redisReply& r) {
  if (r.type != REDIS_REPLY_ERROR) return {};
  // Redis's own out-of-memory refusal is the analogue of a full disk: retry after freeing.
  if (starts_with_word(r, "OOM")) return error::disk_full;
  if (starts_with_word(r, "READONLY")) return error::read_only;
  if (starts_with_word(r, "MISCONF")) return error::io_error;  // cannot persist (RDB failed)
  if (starts_with_word(r, "LOADING") || starts_with_word(r, "MASTERDOWN")) {
    return error::unavailable;
  }
  if (starts_with_word(r, "BUSY")) return error::busy;
  return error::failed;
}

redis_link::redis_link(redis_endpoint where, std::chrono::milliseconds timeout)
    : where_(std::move(where)), timeout_(timeout) {
  if (where_.tls) tls_ = redis::make_tls_context(where_, tls_error_);
}

redis_link::~redis_link() { close(); }

// Runs `op` to completion on the private io_context (its steps carry their own deadlines).
template <class T>
T redis_link::run(boost::asio::awaitable<T> op) {
  std::optional<T> out;
  std::exception_ptr failure;
  boost::asio::co_spawn(io_, std::move(op), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) out.emplace(std::move(value));
  });
  // Not run(): the stream's deadline timer is work too, and would keep it running.
  io_.restart();
  while (!out && !failure) io_.run_one();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

void redis_link::close() noexcept {
  if (stream_ == nullptr) return;
  stream_->close();
  stream_.reset();
  out_.clear();
  io_.restart();
  io_.poll();  // the cancelled operations' handlers, so that nothing refers to the stream
}

std::error_code redis_link::fail(std::error_code ec, std::string_view what) {
  last_error_ = std::string(what);
  close();
  return ec;
}

std::error_code redis_link::connect() {
  close();
  if (where_.tls && !tls_) return fail(error::unavailable, tls_error_);
  redis::opened o = run(redis::open(io_.get_executor(), where_, tls_, timeout_, nullptr));
  if (!o.conn) {
    // The same words as the cluster link's connections: one line for the node, whichever of
    // its connections meets the failure first.
    redis::log_open_failure("cluster", o);
    return fail(error::unavailable, "redis " + redis::printable(o.where) + " " + o.reason);
  }
  redis::forget_open_failure();  // the store logs "connected ..., writable" itself
  stream_ = std::move(o.conn);
  return {};
}

void redis_link::append(const std::vector<std::string_view>& args) {
  if (stream_ == nullptr) return;  // read_reply reports the closed link
  out_ += redis::encode(args);
}

reply_ptr redis_link::read_reply(std::error_code& ec) {
  ec.clear();
  if (stream_ == nullptr) {
    ec = error::unavailable;
    return nullptr;
  }
  stream_->expires_after(timeout_);
  auto r = run(exchange(stream_, std::exchange(out_, {})));
  stream_->expires_never();
  if (!r.reply) {
    const bool timeout = r.ec == std::errc::timed_out;
    ec = fail(timeout ? error::timed_out : error::unavailable, "read reply: " + r.ec.message());
    return nullptr;
  }
  // The server became a replica (a failover): reconnect, which asks the sentinels again.
  if (redis::is_error(r.reply.get(), "READONLY")) {
    last_error_ = "READONLY: no longer the master";
    close();
  }
  return std::move(r.reply);
}

reply_ptr redis_link::command(const std::vector<std::string_view>& args, std::error_code& ec) {
  append(args);
  return read_reply(ec);
}

}  // namespace cluster::detail
