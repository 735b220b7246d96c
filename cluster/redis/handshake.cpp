#include "cluster/redis/handshake.hpp"

#include <mutex>

#include <spdlog/spdlog.h>

#include "broker/printable.hpp"

namespace cluster::redis {
namespace {

// The commands, built outside the coroutines (GCC 12 cannot take a braced list of string
// literals inside one: "array used as initializer").
std::vector<std::string> sentinel_query(const options& o) {
  return {"SENTINEL", "get-master-addr-by-name", o.sentinel_master};
}
std::vector<std::string> auth_command(const options& o) {
  if (o.user.empty()) return {"AUTH", o.password};
  return {"AUTH", o.user, o.password};
}
std::vector<std::string> select_command(const options& o) {
  return {"SELECT", std::to_string(o.db)};
}
std::vector<std::string> role_command() { return {"ROLE"}; }

std::error_code refused() { return std::make_error_code(std::errc::permission_denied); }

// One printable line of an error reply (it comes from the server: escaped for the log).
std::string text_of(const stream::result& r) {
  if (!r.reply) return r.ec.message();
  return broker::printable(reply_text(r.reply.get()), 200);
}

bool is_error_reply(const stream::result& r) {
  return !r.reply || r.reply->type == REDIS_REPLY_ERROR;
}

// A connected (and TLS-established) stream to `a`, or null and `out.reason`.
boost::asio::awaitable<std::shared_ptr<stream>> connect_to(
    boost::asio::any_io_executor ex, const address& a, const options& o,
    std::shared_ptr<boost::asio::ssl::context> tls, std::chrono::milliseconds timeout,
    std::weak_ptr<stream>* current, const bool* abandoned, opened& out) {
  if (abandoned != nullptr && *abandoned) {
    out.ec = std::make_error_code(std::errc::operation_canceled);
    out.reason = "abandoned";
    co_return nullptr;
  }
  auto s = std::make_shared<stream>(ex, tls);
  if (current != nullptr) *current = s;
  s->expires_after(timeout);
  if (auto ec = co_await s->connect(a); ec) {
    out.ec = ec;
    out.reason = "cannot connect: " + ec.message();
    co_return nullptr;
  }
  if (tls) {
    if (auto ec = co_await s->start_tls(o.server_name.empty() ? a.host : o.server_name); ec) {
      out.ec = ec;
      out.reason = "TLS handshake failed: " + ec.message();
      co_return nullptr;
    }
  }
  co_return s;
}

// Asks the sentinels in order; the first that names the master wins.
boost::asio::awaitable<bool> find_master(boost::asio::any_io_executor ex, const options& o,
                                         std::shared_ptr<boost::asio::ssl::context> tls,
                                         std::chrono::milliseconds timeout,
                                         std::weak_ptr<stream>* current, const bool* abandoned,
                                         opened& out) {
  for (const address& sentinel : o.addresses) {
    out.where = sentinel;
    auto s = co_await connect_to(ex, sentinel, o, tls, timeout, current, abandoned, out);
    if (!s) continue;
    auto r = co_await s->command(sentinel_query(o));
    const redisReply* a = r.reply.get();
    if (a && a->type == REDIS_REPLY_ARRAY && a->elements == 2 &&
        a->element[0]->type == REDIS_REPLY_STRING && a->element[1]->type == REDIS_REPLY_STRING) {
      out.sentinel = sentinel;
      out.where.host = std::string(reply_text(a->element[0]));
      out.where.port = std::atoi(std::string(reply_text(a->element[1])).c_str());
      co_return true;
    }
    out.ec = r.ec ? r.ec : std::make_error_code(std::errc::no_such_device_or_address);
    out.reason = "does not know master '" + broker::printable(o.sentinel_master, 100) +
                 "': " + (r.reply && r.reply->type == REDIS_REPLY_NIL ? "no such master" : text_of(r));
  }
  co_return false;
}

// AUTH, SELECT, ROLE on an open stream.
boost::asio::awaitable<bool> log_in(stream& s, const options& o, opened& out) {
  if (!o.password.empty()) {
    auto r = co_await s.command(auth_command(o));
    if (is_error_reply(r)) {
      out.ec = r.ec ? r.ec : refused();
      out.reason = "refused AUTH: " + text_of(r);
      co_return false;
    }
  }
  if (o.db != 0) {
    auto r = co_await s.command(select_command(o));
    if (is_error_reply(r)) {
      out.ec = r.ec ? r.ec : refused();
      out.reason = "refused SELECT: " + text_of(r);
      co_return false;
    }
  }
  if (!o.sentinel_master.empty()) {  // between a failover and the sentinels' news
    auto r = co_await s.command(role_command());
    const redisReply* a = r.reply.get();
    if (!a || a->type != REDIS_REPLY_ARRAY || a->elements == 0 ||
        reply_text(a->element[0]) != "master") {
      out.ec = r.ec ? r.ec : std::make_error_code(std::errc::read_only_file_system);
      out.reason = "is not the master (ROLE): " + (a ? std::string(reply_text(a->elements ? a->element[0] : a)) : text_of(r));
      co_return false;
    }
  }
  co_return true;
}

std::mutex log_mu;
std::string last_failure;  // guarded by log_mu

}  // namespace

boost::asio::awaitable<opened> open(boost::asio::any_io_executor ex, const options& o,
                                    std::shared_ptr<boost::asio::ssl::context> tls,
                                    std::chrono::milliseconds timeout,
                                    std::weak_ptr<stream>* current, const bool* abandoned) {
  opened out;
  out.where = o.first();
  if (!o.sentinel_master.empty() && !co_await find_master(ex, o, tls, timeout, current, abandoned, out)) {
    co_return out;
  }
  auto s = co_await connect_to(ex, out.where, o, tls, timeout, current, abandoned, out);
  if (!s || !co_await log_in(*s, o, out)) co_return out;
  s->expires_never();
  out.conn = std::move(s);
  out.ec.clear();
  out.reason.clear();
  co_return out;
}

void log_open_failure(std::string_view who, const opened& o) {
  std::string line = "redis " + printable(o.where) + " " + o.reason;
  {
    const std::lock_guard lock(log_mu);
    if (line == last_failure) return;
    last_failure = line;
  }
  spdlog::error("{}: {} (retrying)", who, line);
}

void forget_open_failure() {
  const std::lock_guard lock(log_mu);
  last_failure.clear();
}

void log_opened(std::string_view who, const opened& o) {
  forget_open_failure();
  spdlog::info("{}: redis connected to {}", who, printable(o.where));
}

}  // namespace cluster::redis
