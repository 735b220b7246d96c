#include "cluster/store/redis_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "broker/printable.hpp"
#include "broker/store/detail/pending_seqs.hpp"
#include "cluster/store/detail/redis_batch.hpp"
#include "cluster/store/detail/redis_link.hpp"

namespace cluster {
using namespace broker::store;  // the interface this adapter implements
namespace {

using detail::redis_op;
using steady = std::chrono::steady_clock;

constexpr std::chrono::milliseconds first_backoff{100};
// An idle worker PINGs this often, so that writable() (/readyz) turns false when Redis goes
// away even while nothing is appended.
constexpr std::chrono::milliseconds ping_interval{1000};

redis::options endpoint_of(const redis_store_options& o) {
  if (o.where) return *o.where;
  std::string why;
  redis::options where;
  if (redis::parse_url(o.url, where, why)) {
    throw std::runtime_error("redis_store: bad url '" + o.url + "': " + why);
  }
  return where;
}

bool expired(const stored_message& m, const retention& policy, std::int64_t now) {
  if (m.expires_at_ms > 0 && m.expires_at_ms <= now) return true;
  return policy.max_age.count() > 0 && m.stored_at_ms <= now - policy.max_age.count();
}

// WAIT holds the writer's reply for up to min_replicas_timeout: its reply timeout allows it.
std::chrono::milliseconds writer_timeout(const redis_store_options& o) {
  return o.min_replicas > 0 ? std::max(o.command_timeout, o.command_timeout + o.min_replicas_timeout)
                            : o.command_timeout;
}

bool has_writes(const std::vector<redis_op>& ops) {
  return std::any_of(ops.begin(), ops.end(),
                     [](const redis_op& op) {
                       return op.what != redis_op::kind::load &&
                              op.what != redis_op::kind::summarize;
                     });
}

}  // namespace

struct redis_store::impl {
  explicit impl(redis_store_options o)
      : opts(std::move(o)),
        keys{opts.key_prefix},
        writer(endpoint_of(opts), writer_timeout(opts)),
        backoff(std::min(first_backoff, opts.reconnect_max)),
        reader(endpoint_of(opts), opts.command_timeout),
        policy(opts.keep) {
    ensure_connected(false);  // before the thread starts: writable() is right from the start
    thread = std::thread([this] { run(); });
  }

  ~impl() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    wake.notify_all();
    thread.join();
  }

  std::int64_t now_ms() const {
    const auto t = opts.clock ? opts.clock() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

  void submit(redis_op op) {
    {
      std::unique_lock lk(mu);
      if (!stop) {
        queue.push_back(std::move(op));
        ++submitted;
        lk.unlock();
        wake.notify_one();
        return;
      }
    }
    if (op.done) op.done(error::closed, 0);
    if (op.loaded) op.loaded({}, error::closed);
    if (op.summarized) op.summarized({}, error::closed);
  }

  // A remove or a mark: seen by load from now on (through `removing` / `marking`), sent with
  // the next batch.
  void submit_seq(redis_op::kind what, std::string queue, std::uint64_t seq) {
    (what == redis_op::kind::remove ? removing : marking).add(queue, seq);
    redis_op op;
    op.what = what;
    op.queue = std::move(queue);
    op.seq = seq;
    submit(std::move(op));
  }

  // The worker: one pipeline per batch; when idle, reconnect, retry removes and sweep.
  void run() {
    std::vector<redis_op> batch;
    for (;;) {
      retention batch_policy;
      bool stopping = false;
      {
        std::unique_lock lk(mu);
        wake.wait_until(lk, next_wake(), [this] { return stop || !queue.empty(); });
        if (stop && queue.empty()) break;
        take_locked(batch);
        batch_policy = policy;
        stopping = stop;
      }
      const std::size_t tickets = batch.size();
      idle_work(batch_policy, stopping, batch);
      if (!batch.empty()) process(batch, batch_policy, stopping);
      batch.clear();
      {
        std::lock_guard lk(mu);
        finished += tickets;
      }
      flushed.notify_all();
    }
  }

  // Up to max_batch operations, and no more payload bytes than max_batch_bytes (at least one
  // op): EXEC runs the whole batch at once, during which Redis serves no one else.
  void take_locked(std::vector<redis_op>& batch) {
    const std::size_t max_ops = std::max<std::size_t>(opts.max_batch, 1);
    std::size_t bytes = 0;
    while (!queue.empty() && batch.size() < max_ops &&
           (batch.empty() || bytes + queue.front().payload.size() <= opts.max_batch_bytes)) {
      bytes += queue.front().payload.size();
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }

  steady::time_point next_wake() const {
    auto at = last_sweep + opts.purge_interval;
    if (writer.connected()) at = std::min(at, last_reply + ping_interval);
    if (!writer.connected() || !retry_writes.empty()) at = std::min(at, retry_at);
    return at;
  }

  // Reconnects when due, adds removes and marks to retry, and sweeps when due.
  void idle_work(const retention& p, bool stopping, std::vector<redis_op>& batch) {
    if (stopping) return;
    const auto now = steady::now();
    if (!writer.connected() && now >= retry_at) ensure_connected(false);
    if (!retry_writes.empty() && (writer.connected() || !batch.empty())) {
      for (auto& op : retry_writes) batch.push_back(std::move(op));
      retry_writes.clear();
    }
    if (writer.connected() && now >= last_reply + ping_interval) ping();
    if (writer.connected() && now >= last_sweep + opts.purge_interval) {
      last_sweep = now;
      sweep(p);
    }
  }

  void ping() {
    std::error_code ec;
    auto reply = writer.command({"PING"}, ec);
    if (!ec) ec = detail::error_of_reply(*reply);
    last_reply = steady::now();
    if (!ec) return;
    writer.close();  // an error reply (LOADING...) too: reconnect as after a drop
    retry_at = last_reply;
    set_healthy(false, ec, writer.last_error());
  }

  // Connects the writer (and loads the script) when down and the backoff allows it. While
  // stopping, one attempt only: the destructor must not wait more than one command_timeout.
  bool ensure_connected(bool stopping) {
    if (writer.connected()) return true;
    if (stopping ? stop_attempted : steady::now() < retry_at) return false;
    stop_attempted = stopping;
    std::error_code ec = writer.connect();
    if (!ec) sha = detail::load_append_script(writer, ec);
    if (ec) {
      writer.close();
      down_ec = ec;
      retry_at = steady::now() + backoff;
      backoff = std::min(backoff * 2, opts.reconnect_max);
      set_healthy(false, ec, writer.last_error());
      return false;
    }
    backoff = std::min(first_backoff, opts.reconnect_max);
    last_reply = steady::now();
    set_healthy(true, {}, {});
    return true;
  }

  void set_healthy(bool ok, std::error_code ec, const std::string& detail) {
    const bool was = healthy.exchange(ok);
    if (was && !ok) spdlog::error("redis store: not writable: {} ({})", ec.message(), detail);
    if (!was && ok) spdlog::info("redis store: connected to {}, writable", redis::printable(endpoint_of(opts)));
  }

  void process(std::vector<redis_op>& batch, const retention& p, bool stopping) {
    detail::redis_batch_result result;
    if (!has_writes(batch)) {
      // loads only: nothing to send
    } else if (!ensure_connected(stopping)) {
      result.ec = down_ec ? down_ec : make_error_code(error::unavailable);
      for (auto& op : batch) op.ec = result.ec;
      result.append_failures = static_cast<std::uint64_t>(std::count_if(
          batch.begin(), batch.end(), [](auto& op) { return op.what == redis_op::kind::append; }));
    } else {
      result = detail::run_batch(writer, keys, sha, p.max_count, batch,
                                 detail::replica_wait{opts.min_replicas, opts.min_replicas_timeout});
      last_reply = steady::now();
      if (!writer.connected()) retry_at = steady::now();  // dropped: reconnect on next batch
    }
    if (has_writes(batch)) record(batch, result);
    complete(batch, stopping);
  }

  void record(std::vector<redis_op>& batch, const detail::redis_batch_result& result) {
    for (auto& op : batch) {
      if (op.what != redis_op::kind::remove && op.what != redis_op::kind::mark) continue;
      if (op.ec) {
        retry_writes.push_back(std::move(op));  // still reflected by load; retried later
        retry_at = std::max(retry_at, steady::now() + backoff);
      } else {
        (op.what == redis_op::kind::remove ? removing : marking).forget(op.queue, op.seq);
      }
    }
    if (result.append_failures > 0 || !writer.connected()) {
      set_healthy(false, result.ec, writer.last_error());
    } else if (!result.ec) {
      set_healthy(true, {}, {});
    }
    std::lock_guard lk(stats_mu);
    counters.appended += result.appended;
    counters.append_failures += result.append_failures;
    counters.removed += result.removed;
    counters.dropped_overflow += result.dropped_overflow;
    counters.dropped_expired += result.dropped_expired;
    if (result.ec) {
      ++counters.failed_batches;
    } else {
      ++counters.commit_batches;
      counters.last_commit_latency = result.latency;
    }
  }

  // Completions in submission order; a load sees every append of its batch.
  void complete(std::vector<redis_op>& batch, bool stopping) {
    for (auto& op : batch) {
      try {
        if (op.what == redis_op::kind::append && op.done) {
          op.done(op.ec, op.ec ? 0 : op.seq);
        } else if (op.what == redis_op::kind::load && op.loaded) {
          std::error_code ec;
          std::vector<stored_message> messages;
          if (ensure_connected(stopping))
            messages = load_with(writer, op.queue, op.seq, op.max, ec);
          else
            ec = down_ec ? down_ec : make_error_code(error::unavailable);
          op.loaded(std::move(messages), ec);
        } else if (op.what == redis_op::kind::summarize && op.summarized) {
          std::error_code ec;
          std::vector<queue_summary> queues;
          if (ensure_connected(stopping))
            queues = detail::summarize_queues(writer, keys, op.max, ec);
          else
            ec = down_ec ? down_ec : make_error_code(error::unavailable);
          op.summarized(std::move(queues), ec);
        }
      } catch (const std::exception& e) {
        spdlog::error("redis store: completion threw: {}", e.what());
      }
    }
  }

  void sweep(const retention& p);
  std::vector<stored_message> load_with(detail::redis_link& link, std::string_view q,
                                        std::uint64_t after, std::size_t max, std::error_code& ec);
  std::vector<stored_message> load(std::string_view q, std::uint64_t after, std::size_t max,
                                   std::error_code& ec);

  redis_store_options opts;
  detail::redis_keys keys;

  // Worker thread only (and the constructor, before the thread starts).
  detail::redis_link writer;
  std::string sha;  // of the append script
  std::error_code down_ec;
  std::chrono::milliseconds backoff;
  steady::time_point retry_at{};
  bool stop_attempted = false;
  steady::time_point last_sweep = steady::now();
  steady::time_point last_reply = steady::now();  // of the last batch or PING that succeeded
  detail::sweep_position sweep_at;
  std::vector<redis_op> retry_writes;  // removes and marks whose batch failed

  // Lock order: read_mu may be held while taking removing's or marking's lock or mu (never the
  // reverse); mu, removing's, marking's and stats_mu are leaves.
  std::mutex read_mu;  // guards reader and reader_retry_at
  detail::redis_link reader;
  steady::time_point reader_retry_at{};

  mutable std::mutex mu;  // guards queue, submitted, finished, stop, policy
  std::condition_variable wake;
  std::condition_variable flushed;
  std::deque<redis_op> queue;
  std::uint64_t submitted = 0;
  std::uint64_t finished = 0;
  bool stop = false;
  retention policy;

  broker::store::detail::pending_seqs removing;  // removes not yet confirmed by Redis: hidden from load
  broker::store::detail::pending_seqs marking;   // marks not yet confirmed by Redis: loaded as delivered

  mutable std::mutex stats_mu;
  store_stats counters;
  std::atomic<bool> healthy{false};
  std::thread thread;  // last: started once everything above exists
};

// Reads pages until `max` live messages or the end; expired entries are skipped and handed to
// the worker for deletion.
std::vector<stored_message> redis_store::impl::load_with(detail::redis_link& link,
                                                         std::string_view q, std::uint64_t after,
                                                         std::size_t max, std::error_code& ec) {
  // Taken first: a remove() or mark_delivered() that returned is covered, either here or (once
  // confirmed and forgotten) by the read.
  const auto hidden = removing.of(q);
  const auto marked = marking.of(q);
  const std::int64_t t = now_ms();
  retention current;
  {
    std::lock_guard lk(mu);
    current = policy;
  }
  redis_op purge;
  purge.what = redis_op::kind::expire;
  purge.queue = std::string(q);
  auto out = detail::read_live(
      link, keys, q, after, max, [&](const stored_message& m) { return expired(m, current, t); },
      hidden, purge.expired, ec);
  if (ec)
    spdlog::error("redis store: load of '{}' failed: {} ({})", broker::printable(q, 200),
                  ec.message(), broker::printable(link.last_error(), 200));
  if (!purge.expired.empty()) submit(std::move(purge));
  for (auto& m : out) m.delivered = m.delivered || marked.contains(m.seq);
  return out;
}

std::vector<stored_message> redis_store::impl::load(std::string_view q, std::uint64_t after,
                                                    std::size_t max, std::error_code& ec) {
  std::lock_guard lk(read_mu);
  if (!reader.connected()) {
    if (steady::now() < reader_retry_at) {
      ec = error::unavailable;
      return {};
    }
    if ((ec = reader.connect())) {
      reader_retry_at = steady::now() + std::min(first_backoff, opts.reconnect_max);
      spdlog::warn("redis store: reader cannot connect: {}", reader.last_error());
      return {};
    }
  }
  return load_with(reader, q, after, max, ec);
}

// Deletes expired entries of known queues, examining at most purge_max_entries entries (the
// SSCAN position carries over to the next sweep), and the streams found empty.
void redis_store::impl::sweep(const retention& p) {
  const std::int64_t t = now_ms();
  std::error_code ec;
  auto found = detail::find_expired(
      writer, keys, sweep_at, std::max<std::size_t>(opts.purge_max_entries, 1),
      [&](const stored_message& m) { return expired(m, p, t); }, ec);
  for (const auto& name : found.empty) {
    if (!ec) detail::drop_queue_if_empty(writer, keys, name, ec);
  }
  if (ec) spdlog::warn("redis store: expiry sweep stopped: {}", ec.message());
  if (found.purges.empty() || !writer.connected()) return;
  record(found.purges, detail::run_batch(writer, keys, sha, p.max_count, found.purges));
}

redis_store::redis_store(redis_store_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

redis_store::~redis_store() = default;

// Returns 0: the seq is INCRed by the script at commit, so only the completion knows it.
std::uint64_t redis_store::append(std::string queue, std::string message_id, std::string payload,
                                  std::int64_t expires_at_ms, append_handler done) {
  redis_op op;
  op.queue = std::move(queue);
  op.message_id = std::move(message_id);
  op.payload = std::move(payload);
  op.stored_at_ms = impl_->now_ms();
  op.expires_at_ms = expires_at_ms;
  op.done = std::move(done);
  impl_->submit(std::move(op));
  return 0;
}

std::vector<stored_message> redis_store::load(std::string_view queue, std::uint64_t after_seq,
                                              std::size_t max, std::error_code& ec) {
  return impl_->load(queue, after_seq, max, ec);
}

void redis_store::load_async(std::string queue, std::uint64_t after_seq, std::size_t max,
                             load_handler done) {
  redis_op op;
  op.what = redis_op::kind::load;
  op.queue = std::move(queue);
  op.seq = after_seq;
  op.max = max;
  op.loaded = std::move(done);
  impl_->submit(std::move(op));
}

// On the worker, like load_async: one SSCAN of the known queues and two reads per queue, so a
// console's request delays the appends behind it by that much.
void redis_store::summarize_async(std::size_t max, summary_handler done) {
  redis_op op;
  op.what = redis_op::kind::summarize;
  op.max = max;
  op.summarized = std::move(done);
  impl_->submit(std::move(op));
}

void redis_store::remove(std::string queue, std::uint64_t seq) {
  impl_->submit_seq(redis_op::kind::remove, std::move(queue), seq);
}

void redis_store::mark_delivered(std::string queue, std::uint64_t seq) {
  impl_->submit_seq(redis_op::kind::mark, std::move(queue), seq);
}

void redis_store::set_retention(retention r) {
  std::lock_guard lk(impl_->mu);
  impl_->policy = r;
}

store_stats redis_store::stats() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->counters;
}

void redis_store::flush() {
  std::unique_lock lk(impl_->mu);
  const std::uint64_t target = impl_->submitted;
  impl_->flushed.wait(lk, [&] { return impl_->finished >= target; });
}

bool redis_store::writable() const { return impl_->healthy.load(); }

}  // namespace cluster
