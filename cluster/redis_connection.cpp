#include "cluster/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "cluster/detail/hiredis_watcher.hpp"

namespace cluster {
namespace {

constexpr std::chrono::milliseconds backoff_min{100};
constexpr std::chrono::milliseconds backoff_max{5000};

}  // namespace

redis_connection::redis_connection(strand_type strand, redis_endpoint ep, std::string name,
                                   std::function<void()> on_up, std::function<void()> on_down)
    : strand_(std::move(strand)),
      ep_(std::move(ep)),
      name_(std::move(name)),
      on_up_(std::move(on_up)),
      on_down_(std::move(on_down)),
      retry_(strand_) {}

redis_connection::~redis_connection() = default;

void redis_connection::start() { do_connect(); }

void redis_connection::stop() {
  stopped_ = true;
  retry_.cancel();
  if (redisAsyncContext* ac = ac_) {
    ac_ = nullptr;
    redisAsyncFree(ac);  // pending callbacks run with null, then on_disconnect
  }
  up_ = false;
}

void redis_connection::reset() {
  if (!ac_ || stopped_) return;
  spdlog::warn("cluster: redis {} connection unresponsive; reconnecting", name_);
  redisAsyncContext* ac = ac_;
  ac_ = nullptr;
  redisAsyncFree(ac);
  lost();
}

void redis_connection::do_connect() {
  if (stopped_) return;
  redisAsyncContext* ac = redisAsyncConnect(ep_.host.c_str(), ep_.port);
  if (!ac) return schedule_reconnect();
  if (ac->err) {
    spdlog::warn("cluster: redis {} {}:{}: {}", name_, ep_.host, ep_.port, ac->errstr);
    redisAsyncFree(ac);
    return schedule_reconnect();
  }
  ac->data = this;
  ac_ = ac;
  watcher_ = detail::hiredis_watcher::attach(ac, strand_);
  redisAsyncSetConnectCallback(ac, &redis_connection::on_connect);
  redisAsyncSetDisconnectCallback(ac, &redis_connection::on_disconnect);
  // hiredis reports the connect on the first write readiness: queue a command to ask for it.
  send({"PING"}, nullptr, nullptr);
}

void redis_connection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<redis_connection*>(ac->data);
  if (status != REDIS_OK) {  // hiredis frees the context after this returns
    if (self->ac_ == ac) {
      spdlog::warn("cluster: redis {} {}:{}: cannot connect: {}", self->name_, self->ep_.host,
                   self->ep_.port, ac->errstr);
      self->ac_ = nullptr;
      self->lost();
    }
    return;
  }
  spdlog::info("cluster: redis {} connected to {}:{}", self->name_, self->ep_.host,
               self->ep_.port);
  // A peer that vanished (host down, cable out) is noticed by TCP even on a connection that only
  // listens (the subscriber's): probes after 15 s idle.
  if (self->ac_ == ac) redisEnableKeepAlive(&self->ac_->c);
  self->backoff_ = backoff_min;
  self->up_ = true;
  self->connects_.fetch_add(1, std::memory_order_relaxed);
  if (self->on_up_) self->on_up_();
}

void redis_connection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<redis_connection*>(ac->data);
  if (self->ac_ != ac) return;  // freed by stop() or reset(): handled there
  self->ac_ = nullptr;
  spdlog::warn("cluster: redis {} connection lost ({})", self->name_,
               status == REDIS_OK ? "closed" : ac->errstr);
  self->lost();
}

void redis_connection::lost() {
  const bool was_up = up_.exchange(false);
  if (was_up && on_down_) on_down_();
  schedule_reconnect();
}

void redis_connection::schedule_reconnect() {
  if (stopped_) return;
  retry_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, backoff_max);
  retry_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->do_connect();
  });
}

bool redis_connection::send(const std::vector<std::string_view>& args,
                            void (*fn)(redisAsyncContext*, void*, void*), void* privdata) {
  if (!ac_) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ac_, fn, privdata, static_cast<int>(argv.size()), argv.data(),
                               lens.data()) == REDIS_OK;
}

bool redis_connection::command(const std::vector<std::string_view>& args, reply_fn done) {
  if (!up()) return false;
  auto* fn = new reply_fn(std::move(done));  // owned by on_reply, which hiredis calls once
  if (send(args, &redis_connection::on_reply, fn)) return true;
  delete fn;
  return false;
}

void redis_connection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<reply_fn> fn(static_cast<reply_fn*>(privdata));
  if (*fn) (*fn)(static_cast<const redisReply*>(reply));
}

bool redis_connection::push_command(const std::vector<std::string_view>& args) {
  if (!up()) return false;
  return send(args, &redis_connection::on_push_reply, this);
}

// Called for every pub/sub reply of this connection, and with null when it goes.
void redis_connection::on_push_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<redis_connection*>(privdata);
  if (reply && self->on_push_) self->on_push_(static_cast<const redisReply*>(reply));
}

std::string_view reply_text(const redisReply* r) {
  return r && r->str ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace cluster
