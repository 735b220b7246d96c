#include "broker/store/sqlite_store.hpp"

#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "broker/printable.hpp"
#include "broker/store/detail/batch_writer.hpp"
#include "broker/store/detail/pending_seqs.hpp"
#include "broker/store/detail/sqlite_db.hpp"
#include "broker/store/detail/sqlite_schema.hpp"

namespace broker::store {
namespace {

using detail::write_op;

constexpr const char* load_sql =
    "SELECT seq, message_id, payload, stored_at, expires_at, delivered FROM messages"
    " WHERE queue = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";

// The `messages_by_queue` index gives the groups; the console asks rarely (every few seconds).
constexpr const char* summary_sql =
    "SELECT queue, count(*), min(stored_at) FROM messages GROUP BY queue"
    " ORDER BY count(*) DESC, queue LIMIT ?1";

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool expired(const stored_message& m, const retention& policy, std::int64_t now) {
  if (m.expires_at_ms > 0 && m.expires_at_ms <= now) return true;
  return policy.max_age.count() > 0 && m.stored_at_ms <= now - policy.max_age.count();
}

}  // namespace

struct sqlite_store::impl {
  explicit impl(sqlite_options o)
      : opts(std::move(o)),
        now(opts.now_ms ? opts.now_ms : system_now_ms),
        writer_db(detail::open_writer_db(opts)),
        reader_db(detail::open_reader_db(opts)),
        reader(reader_db ? *reader_db : *writer_db),
        writer(*writer_db),
        load_stmt(reader, load_sql),
        next_seq(detail::highest_seq(*writer_db) + 1),
        policy(opts.policy),
        thread([this] { run(); }) {}

  ~impl() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    wake.notify_all();
    thread.join();
  }

  // Returns an append's seq (0 when refused). The seq is taken under `mu`, in the same step that
  // queues the op: seq order = queue order = commit order, so the committed rows of a queue are
  // always a prefix of its appends in seq order, as before when SQLite assigned them at INSERT.
  std::uint64_t submit(write_op op) {
    std::uint64_t seq = 0;
    {
      std::unique_lock lk(mu);
      if (stop) {
        lk.unlock();
        if (op.done) op.done(error::closed, 0);
        return 0;
      }
      if (op.what == write_op::kind::purge) {
        if (purge_requested) return 0;
        purge_requested = true;
      }
      if (op.what == write_op::kind::append) op.seq = seq = next_seq++;
      queue.push_back(std::move(op));
      ++submitted;
    }
    wake.notify_one();
    return seq;
  }

  // A remove or a mark: seen by load from now on (through `removing` / `marking`), written by
  // the next batch.
  void submit_seq(write_op::kind what, std::string queue, std::uint64_t seq) {
    (what == write_op::kind::remove ? removing : marking).add(queue, seq);
    write_op op;
    op.what = what;
    op.queue = std::move(queue);
    op.seq = seq;
    submit(std::move(op));
  }

  // The writer thread: commit whatever is queued, one transaction per batch.
  void run() {
    auto last_purge = std::chrono::steady_clock::time_point{};  // purge on the first pass
    std::vector<write_op> batch;
    bool busy = false;  // work arrived during the last commit
    for (;;) {
      retention batch_policy;
      {
        std::unique_lock lk(mu);
        wake.wait_for(lk, opts.purge_interval, [this] { return stop || !queue.empty(); });
        if (stop && queue.empty()) break;
        if (busy && !stop && opts.commit_delay.count() > 0 && queue.size() < opts.max_batch) {
          lk.unlock();  // group commit: let the batch grow (submitters do not wait for us)
          std::this_thread::sleep_for(opts.commit_delay);
          lk.lock();
        }
        take_locked(batch);
        batch_policy = policy;
      }
      const std::size_t tickets = batch.size();
      const auto steady = std::chrono::steady_clock::now();
      const bool purge = steady - last_purge >= opts.purge_interval;
      if (purge) last_purge = steady;
      for (auto& op : retry_writes) batch.push_back(std::move(op));
      retry_writes.clear();
      if (!batch.empty() || purge) commit(batch, batch_policy, purge);
      batch.clear();
      {
        std::lock_guard lk(mu);
        finished += tickets;
        busy = !queue.empty();
      }
      flushed.notify_all();
    }
  }

  void take_locked(std::vector<write_op>& batch) {
    const std::size_t n = std::min(queue.size(), std::max<std::size_t>(opts.max_batch, 1));
    for (std::size_t i = 0; i < n; ++i) {
      if (queue.front().what == write_op::kind::purge) purge_requested = false;
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }

  void commit(std::vector<write_op>& batch, const retention& batch_policy, bool purge) {
    detail::batch_result result;
    {
      // An in-memory database has a single connection, shared with load().
      std::unique_lock<std::mutex> shared;
      if (!reader_db) shared = std::unique_lock(read_mu);
      result = writer.run(batch, batch_policy, now(), purge);
    }
    record(batch, result);
    for (auto& op : batch) {
      if (op.what != write_op::kind::append || !op.done) continue;
      try {
        op.done(result.ec, result.ec ? 0 : op.seq);
      } catch (const std::exception& e) {
        spdlog::error("store: append completion threw: {}", e.what());
      }
    }
  }

  void record(std::vector<write_op>& batch, const detail::batch_result& result) {
    std::uint64_t appends = 0;
    for (auto& op : batch) {
      if (op.what == write_op::kind::append) ++appends;
      if (op.what != write_op::kind::remove && op.what != write_op::kind::mark) continue;
      auto& pending = op.what == write_op::kind::remove ? removing : marking;
      // A failed remove or mark stays pending (load still reflects it) and is retried with the
      // next batch. A cancelled remove is done either way: its row was never written.
      if (result.ec && !op.cancelled) {
        retry_writes.push_back(std::move(op));
      } else {
        pending.forget(op.queue, op.seq);
      }
    }
    if (!result.transaction) {  // all cancelled: nothing written, nothing learnt about the disk
      std::lock_guard lk(stats_mu);
      counters.cancelled += result.cancelled;
      return;
    }
    const bool was_healthy = healthy.exchange(!result.ec);
    if (result.ec && was_healthy) {
      spdlog::error("store: commit of {} operations failed: {} ({})", batch.size(),
                    result.ec.message(), writer_db->last_message());
    } else if (!result.ec && !was_healthy) {
      spdlog::info("store: commits succeed again");
    }
    std::lock_guard lk(stats_mu);
    if (result.ec) {
      ++counters.failed_batches;
      counters.append_failures += appends;
      return;
    }
    ++counters.commit_batches;
    counters.appended += result.appended;
    counters.removed += result.removed;
    counters.cancelled += result.cancelled;
    counters.dropped_overflow += result.dropped_overflow;
    counters.dropped_expired += result.dropped_expired;
    counters.last_commit_latency = result.latency;
  }

  std::vector<stored_message> load(std::string_view q, std::uint64_t after, std::size_t max,
                                   std::error_code& ec);

  sqlite_options opts;
  std::function<std::int64_t()> now;
  // Declaration order is destruction order in reverse: statements go before their connection,
  // and the thread (last) is joined before anything it uses is destroyed.
  std::unique_ptr<detail::sqlite_db> writer_db;
  std::unique_ptr<detail::sqlite_db> reader_db;  // null for :memory: (reader = writer_db)
  detail::sqlite_db& reader;
  detail::batch_writer writer;
  std::mutex read_mu;  // guards reader + load_stmt (and the writer's use of a shared connection)
  detail::sqlite_stmt load_stmt;

  // Lock order: mu, the pending_seqs' locks and stats_mu are leaves (never held together);
  // read_mu may be held while taking none of them.
  // guards queue, next_seq, submitted, finished, stop, purge_requested, policy
  mutable std::mutex mu;
  std::condition_variable wake;     // the writer waits for work
  std::condition_variable flushed;  // flush() waits for `finished`
  std::deque<write_op> queue;
  // The next append's seq: above every seq the database ever used (highest_seq) and every one
  // this object handed out, including those of failed batches (burnt, never reused).
  std::uint64_t next_seq;
  std::uint64_t submitted = 0;
  std::uint64_t finished = 0;
  bool stop = false;
  bool purge_requested = false;
  retention policy;

  detail::pending_seqs removing;  // removes submitted but not yet committed: hidden from load
  detail::pending_seqs marking;   // marks submitted but not yet committed: loaded as delivered

  mutable std::mutex stats_mu;
  store_stats counters;
  std::atomic<bool> healthy{true};

  std::vector<write_op> retry_writes;  // failed removes and marks; writer thread only
  std::thread thread;
};

std::vector<stored_message> sqlite_store::impl::load(std::string_view q, std::uint64_t after,
                                                     std::size_t max, std::error_code& ec) {
  ec.clear();
  std::vector<stored_message> out;
  if (max == 0) return out;
  // Taken first: a remove() or mark_delivered() that returned is covered, either here or (once
  // committed and forgotten) by the read below.
  const auto removed = removing.of(q);
  const auto marked = marking.of(q);
  const std::int64_t t = now();
  retention current;
  {
    std::lock_guard lk(mu);
    current = policy;
  }
  bool saw_expired = false;
  {
    std::lock_guard lk(read_mu);
    while (out.size() < max) {
      const std::size_t want = max - out.size();
      load_stmt.reset();
      load_stmt.bind_text(1, q);
      load_stmt.bind(2, static_cast<std::int64_t>(after));
      load_stmt.bind(3, static_cast<std::int64_t>(want));
      std::size_t rows = 0;
      int rc = SQLITE_ROW;
      while ((rc = load_stmt.step()) == SQLITE_ROW) {
        ++rows;
        stored_message m{static_cast<std::uint64_t>(load_stmt.column_int(0)), std::string(q),
                         load_stmt.column_bytes(1), load_stmt.column_bytes(2),
                         load_stmt.column_int(3), load_stmt.column_int(4)};
        m.delivered = load_stmt.column_int(5) != 0 || marked.contains(m.seq);
        after = m.seq;
        if (expired(m, current, t)) {
          saw_expired = true;
        } else if (!removed.contains(m.seq)) {
          out.push_back(std::move(m));
        }
      }
      if (rc != SQLITE_DONE) {
        ec = detail::to_error_code(rc);
        spdlog::error("store: load of '{}' failed: {}", broker::printable(q, 200),
                      reader.last_message());
        break;
      }
      if (rows < want) break;
    }
    load_stmt.reset();  // ends the read transaction: an open one would stall checkpoints
  }
  if (saw_expired) {
    write_op purge;
    purge.what = write_op::kind::purge;
    submit(std::move(purge));
  }
  return out;
}

sqlite_store::sqlite_store(sqlite_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

sqlite_store::~sqlite_store() = default;

std::uint64_t sqlite_store::append(std::string queue, std::string message_id, std::string payload,
                                   std::int64_t expires_at_ms, append_handler done) {
  write_op op;
  op.queue = std::move(queue);
  op.message_id = std::move(message_id);
  op.payload = std::move(payload);
  op.stored_at_ms = impl_->now();
  op.expires_at_ms = expires_at_ms;
  op.done = std::move(done);
  return impl_->submit(std::move(op));
}

std::vector<stored_message> sqlite_store::load(std::string_view queue, std::uint64_t after_seq,
                                               std::size_t max, std::error_code& ec) {
  return impl_->load(queue, after_seq, max, ec);
}

// Also for a seq whose append has not completed: the writer cancels the pair when both are in
// one batch (batch_writer), or deletes the row in a later batch, after its INSERT committed.
void sqlite_store::remove(std::string queue, std::uint64_t seq) {
  impl_->submit_seq(write_op::kind::remove, std::move(queue), seq);
}

void sqlite_store::mark_delivered(std::string queue, std::uint64_t seq) {
  impl_->submit_seq(write_op::kind::mark, std::move(queue), seq);
}

void sqlite_store::set_retention(retention r) {
  std::lock_guard lk(impl_->mu);
  impl_->policy = r;
}

void sqlite_store::summarize_async(std::size_t max, summary_handler done) {
  std::vector<queue_summary> out;
  std::error_code ec;
  {
    std::lock_guard lk(impl_->read_mu);
    detail::sqlite_stmt stmt(impl_->reader, summary_sql);
    stmt.bind(1, static_cast<std::int64_t>(max));
    int rc = SQLITE_ROW;
    while ((rc = stmt.step()) == SQLITE_ROW) {
      out.push_back({stmt.column_bytes(0), static_cast<std::uint64_t>(stmt.column_int(1)),
                     stmt.column_int(2)});
    }
    if (rc != SQLITE_DONE) {
      ec = detail::to_error_code(rc);
      spdlog::error("store: summary failed: {}", impl_->reader.last_message());
    }
  }
  done(std::move(out), ec);
}

store_stats sqlite_store::stats() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->counters;
}

void sqlite_store::flush() {
  std::unique_lock lk(impl_->mu);
  const std::uint64_t target = impl_->submitted;
  impl_->flushed.wait(lk, [&] { return impl_->finished >= target; });
}

bool sqlite_store::writable() const { return impl_->healthy.load(); }

}  // namespace broker::store
