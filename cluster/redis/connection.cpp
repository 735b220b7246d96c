#include "cluster/redis/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace cluster::redis {
namespace asio = boost::asio;
namespace {

constexpr std::chrono::milliseconds backoff_min{100};
constexpr std::chrono::milliseconds backoff_max{5000};
constexpr std::chrono::milliseconds open_timeout{5000};  // each step of the handshake

// A message or (un)subscribe confirmation of pub/sub, not the reply to a command.
bool is_push(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return false;
  const std::string_view kind = reply_text(r->element[0]);
  return kind == "message" || kind == "pmessage" || kind == "subscribe" ||
         kind == "psubscribe" || kind == "unsubscribe" || kind == "punsubscribe";
}

// Built outside the coroutine (GCC 12: no braced list of literals inside one).
std::string switch_master_subscription() { return encode({"SUBSCRIBE", "+switch-master"}); }

}  // namespace

connection::connection(strand_type strand, options o, std::string name,
                       std::function<void()> on_up, std::function<void()> on_down)
    : strand_(std::move(strand)),
      opts_(std::move(o)),
      name_(std::move(name)),
      on_up_(std::move(on_up)),
      on_down_(std::move(on_down)),
      retry_(strand_) {
  if (opts_.tls) tls_ = make_tls_context(opts_, tls_error_);
}

connection::~connection() = default;

void connection::start() {
  asio::co_spawn(strand_, run(shared_from_this()), asio::detached);
}

void connection::stop() {
  stopped_ = true;
  retry_.cancel();
  if (auto s = opening_.lock()) s->close();
  if (stream_) stream_->close();
  lost();
}

void connection::reset() { drop("connection unresponsive"); }

// Closing the stream ends read_until_lost; run() then reconnects after the backoff.
void connection::drop(std::string_view why) {
  if (!stream_ || stopped_) return;
  spdlog::warn("cluster: redis {} {}; reconnecting", name_, why);
  stream_->close();
  lost();
}

asio::awaitable<void> connection::pause() {
  retry_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, backoff_max);
  boost::system::error_code ignored;
  co_await retry_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> connection::run(self_ptr self) {
  const std::string who = "cluster";  // one line for both connections of the link
  while (!stopped_) {
    if (opts_.tls && !tls_) {
      opened failed;
      failed.where = opts_.first();
      failed.reason = tls_error_;
      log_open_failure(who, failed);
      co_await pause();
      continue;
    }
    opened o = co_await open(strand_, opts_, tls_, open_timeout, &opening_, &stopped_);
    if (stopped_) co_return;
    if (!o.conn) {
      log_open_failure(who, o);
      co_await pause();
      continue;
    }
    log_opened(who, o);
    stream_ = o.conn;
    subscribed_ = false;
    scripts_sent_.clear();  // a new server (failover, restart) may not have them
    backoff_ = backoff_min;
    up_ = true;
    connects_.fetch_add(1, std::memory_order_relaxed);
    if (!opts_.sentinel_master.empty()) {
      asio::co_spawn(strand_, watch_sentinel(self, stream_, o.sentinel), asio::detached);
    }
    if (on_up_) on_up_();
    co_await read_until_lost(stream_);
    if (stopped_) co_return;
    co_await pause();
  }
}

asio::awaitable<void> connection::read_until_lost(std::shared_ptr<stream> s) {
  while (stream_ == s) {
    auto r = co_await s->read();
    if (stream_ != s) co_return;  // dropped or stopped meanwhile: already handled
    if (!r.reply) {
      spdlog::warn("cluster: redis {} connection lost ({})", name_, r.ec.message());
      lost();
      co_return;
    }
    dispatch(std::move(r.reply));
  }
}

void connection::dispatch(reply_ptr r) {
  last_reply_ = std::chrono::steady_clock::now();
  if ((subscribed_ && is_push(r.get())) || pending_.empty()) {
    if (on_push_) on_push_(r.get());
    return;
  }
  reply_fn done = std::move(pending_.front());
  pending_.pop_front();
  if (done) done(r.get());
  // The server we write to became a replica (a failover): find the master again.
  if (is_error(r.get(), "READONLY")) drop("answered READONLY (no longer the master)");
}

void connection::lost() {
  stream_.reset();
  if (auto w = watcher_.lock()) w->close();
  out_.clear();
  const bool was_up = up_.exchange(false);
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& done : pending)
    if (done) done(nullptr);
  if (was_up && on_down_) on_down_();
}

void connection::send(std::string bytes) {
  out_ += bytes;
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(strand_, write_queued(shared_from_this(), stream_), asio::detached);
}

// One write at a time; what is queued meanwhile goes in the next, gathered.
asio::awaitable<void> connection::write_queued(self_ptr, std::shared_ptr<stream> s) {
  while (!out_.empty() && stream_ == s) {
    if (auto ec = co_await s->write(std::exchange(out_, {})); ec) {
      s->close();  // the reader notices and reports it
      break;
    }
  }
  writing_ = false;
  if (!out_.empty() && stream_) send({});  // queued for a newer connection meanwhile
}

bool connection::command(const std::vector<std::string_view>& args, reply_fn done) {
  if (!up()) return false;
  pending_.push_back(std::move(done));
  send(encode(args));
  return true;
}

bool connection::eval(const script& s, std::vector<std::string> args, reply_fn done) {
  const bool first_time = !scripts_sent_.contains(s.sha);
  std::vector<std::string_view> line{first_time ? "EVAL" : "EVALSHA", first_time ? s.text : s.sha};
  line.insert(line.end(), args.begin(), args.end());
  if (first_time) {
    if (!command(line, std::move(done))) return false;
    scripts_sent_.insert(s.sha);  // Redis runs it before anything sent after: cached by then
    script_texts_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  auto retry = [self = shared_from_this(), text = s.text, args = std::move(args),
                done = std::move(done)](const redisReply* r) mutable {
    if (!is_error(r, "NOSCRIPT")) {
      if (done) done(r);
      return;
    }
    std::vector<std::string_view> again{"EVAL", text};
    again.insert(again.end(), args.begin(), args.end());
    self->script_texts_.fetch_add(1, std::memory_order_relaxed);
    if (!self->command(again, done) && done) done(nullptr);
  };
  return command(line, std::move(retry));
}

bool connection::push_command(const std::vector<std::string_view>& args) {
  if (!up()) return false;
  subscribed_ = true;
  send(encode(args));
  return true;
}

// Sentinel mode: the sentinel that named our master tells when another replaces it.
asio::awaitable<void> connection::watch_sentinel(self_ptr, std::shared_ptr<stream> s,
                                                 address sentinel) {
  auto w = std::make_shared<stream>(strand_, tls_);
  watcher_ = w;
  w->expires_after(open_timeout);
  if (co_await w->connect(sentinel)) co_return;
  if (tls_ && co_await w->start_tls(opts_.server_name.empty() ? sentinel.host : opts_.server_name))
    co_return;
  if (co_await w->write(switch_master_subscription())) co_return;
  w->expires_never();
  while (stream_ == s) {
    auto r = co_await w->read();
    if (!r.reply || stream_ != s) co_return;
    // "+switch-master" payload: "<master name> <old ip> <old port> <new ip> <new port>".
    const redisReply* m = r.reply.get();
    if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
        reply_text(m->element[2]).starts_with(opts_.sentinel_master + " ")) {
      drop("master switched (Sentinel)");
      co_return;
    }
  }
}

}  // namespace cluster::redis
