#include "cluster/store/detail/redis_link.hpp"

#include <hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <utility>

#include "broker/store/error.hpp"

namespace cluster::detail {
using namespace broker::store;  // the interface this adapter implements
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool starts_with_word(const redisReply& r, std::string_view word) {
  const std::string_view text(r.str, r.len);
  return text.substr(0, word.size()) == word;
}

// "[user:]password" before the '@' of the URL.
void parse_userinfo(std::string_view info, redis_endpoint& out) {
  const auto colon = info.find(':');
  if (colon == std::string_view::npos) {
    out.password = std::string(info);
    return;
  }
  out.user = std::string(info.substr(0, colon));
  out.password = std::string(info.substr(colon + 1));
}

bool parse_host_port(std::string_view hp, redis_endpoint& out) {
  std::string_view port;
  if (!hp.empty() && hp.front() == '[') {  // [::1]:6379
    const auto close = hp.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(hp.substr(1, close - 1));
    hp.remove_prefix(close + 1);
    if (!hp.empty() && hp.front() != ':') return false;
    if (!hp.empty()) port = hp.substr(1);
  } else {
    const auto colon = hp.rfind(':');
    out.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) port = hp.substr(colon + 1);
  }
  if (out.host.empty()) return false;
  return port.empty() || (parse_int(port, out.port) && out.port > 0 && out.port < 65536);
}

// hiredis writes with write(2), not send(MSG_NOSIGNAL): writing to a connection Redis closed
// raises SIGPIPE, whose default action kills the whole broker. Block it on this thread while
// hiredis writes and swallow one raised meanwhile; the write then fails with EPIPE as it should.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    was_pending_ = pending();
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~sigpipe_guard() {
    if (!was_pending_ && pending()) {
      const timespec zero{};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  static bool pending() {
    sigset_t set;
    sigemptyset(&set);
    sigpending(&set);
    return sigismember(&set, SIGPIPE) == 1;
  }
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

}  // namespace

std::optional<redis_endpoint> parse_redis_url(std::string_view url, std::string& why) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    why = "expected redis://host:port[/db]";
    return std::nullopt;
  }
  url.remove_prefix(scheme.size());
  redis_endpoint out;
  const auto slash = url.find('/');
  if (slash != std::string_view::npos) {
    const auto db = url.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, out.db) || out.db < 0)) {
      why = "the database after '/' must be a number";
      return std::nullopt;
    }
    url = url.substr(0, slash);
  }
  const auto at = url.rfind('@');
  if (at != std::string_view::npos) {
    parse_userinfo(url.substr(0, at), out);
    url.remove_prefix(at + 1);
  }
  if (!parse_host_port(url, out)) {
    why = "bad host or port";
    return std::nullopt;
  }
  return out;
}

void reply_deleter::operator()(redisReply* r) const noexcept { freeReplyObject(r); }

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
    : where_(std::move(where)), timeout_(timeout) {}

redis_link::~redis_link() { close(); }

void redis_link::close() noexcept {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

std::error_code redis_link::fail(std::error_code ec, std::string_view what) {
  last_error_ = std::string(what);
  if (ctx_ != nullptr && ctx_->errstr[0] != '\0') last_error_ += std::string(": ") + ctx_->errstr;
  close();
  return ec;
}

std::error_code redis_link::connect() {
  close();
  ctx_ = redisConnectWithTimeout(where_.host.c_str(), where_.port, to_timeval(timeout_));
  if (ctx_ == nullptr) return fail(error::unavailable, "cannot allocate a hiredis context");
  if (ctx_->err != 0) return fail(error::unavailable, "connect");
  if (redisSetTimeout(ctx_, to_timeval(timeout_)) != REDIS_OK) {
    return fail(error::unavailable, "set timeout");
  }
  redisEnableKeepAlive(ctx_);
  std::error_code ec;
  if (!where_.password.empty()) {
    auto r = where_.user.empty() ? command({"AUTH", where_.password}, ec)
                                 : command({"AUTH", where_.user, where_.password}, ec);
    if (ec) return ec;
    if (auto rec = error_of_reply(*r)) return fail(rec, std::string_view(r->str, r->len));
  }
  if (where_.db != 0) {
    const std::string db = std::to_string(where_.db);
    auto r = command({"SELECT", db}, ec);
    if (ec) return ec;
    if (auto rec = error_of_reply(*r)) return fail(rec, std::string_view(r->str, r->len));
  }
  return {};
}

void redis_link::append(const std::vector<std::string_view>& args) {
  if (ctx_ == nullptr) return;  // read_reply reports the closed link
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    fail(error::failed, "append command");
  }
}

reply_ptr redis_link::read_reply(std::error_code& ec) {
  ec.clear();
  if (ctx_ == nullptr) {
    ec = error::unavailable;
    return nullptr;
  }
  void* raw = nullptr;
  const sigpipe_guard no_sigpipe;
  errno = 0;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    // SO_RCVTIMEO expired: hiredis reports EAGAIN. Anything else is a dropped connection.
    const bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
    ec = fail(timeout ? error::timed_out : error::unavailable, "read reply");
    return nullptr;
  }
  return reply_ptr(static_cast<redisReply*>(raw));
}

reply_ptr redis_link::command(const std::vector<std::string_view>& args, std::error_code& ec) {
  append(args);
  return read_reply(ec);
}

}  // namespace cluster::detail
