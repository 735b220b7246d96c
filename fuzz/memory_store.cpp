#include "memory_store.hpp"

#include <chrono>

#include "broker/store/error.hpp"

namespace fuzz {

using broker::store::stored_message;

std::uint64_t memory_store::append(std::string queue, std::string message_id, std::string payload,
                                   std::int64_t expires_at_ms, broker::store::append_handler done) {
  std::lock_guard lock(mutex_);
  stored_message m;
  m.queue = std::move(queue);
  m.message_id = std::move(message_id);
  m.payload = std::move(payload);
  m.expires_at_ms = expires_at_ms;
  pending_.push_back(pending{std::move(m), std::move(done)});
  return 0;
}

// Commits (or fails) every pending append, then runs the completions outside the lock.
void memory_store::flush() {
  std::vector<std::pair<broker::store::append_handler, std::uint64_t>> completions;
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (failing_) ec = broker::store::error::disk_full;
    last_failed_ = failing_ && !pending_.empty();
    for (pending& p : pending_) {
      if (ec) {
        ++stats_.append_failures;
        completions.emplace_back(std::move(p.done), 0);
        continue;
      }
      p.m.seq = ++next_seq_;
      auto& q = queues_[p.m.queue];
      q[p.m.seq] = p.m;
      ++stats_.appended;
      while (retention_.max_count != 0 && q.size() > retention_.max_count) {
        q.erase(q.begin());
        ++stats_.dropped_overflow;
      }
      completions.emplace_back(std::move(p.done), p.m.seq);
    }
    pending_.clear();
  }
  for (auto& [done, seq] : completions) {
    if (done) done(ec, seq);
  }
}

std::vector<stored_message> memory_store::load(std::string_view queue, std::uint64_t after_seq,
                                               std::size_t max, std::error_code& ec) {
  ec.clear();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<stored_message> out;
  std::lock_guard lock(mutex_);
  const auto q = queues_.find(queue);
  if (q == queues_.end()) return out;
  for (auto it = q->second.upper_bound(after_seq); it != q->second.end() && out.size() < max;
       ++it) {
    if (it->second.expires_at_ms == 0 || it->second.expires_at_ms > now_ms) {
      out.push_back(it->second);
    }
  }
  return out;
}

void memory_store::remove(std::string queue, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (auto q = queues_.find(queue); q != queues_.end() && q->second.erase(seq) != 0) {
    ++stats_.removed;
  }
}

void memory_store::mark_delivered(std::string queue, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (auto q = queues_.find(queue); q != queues_.end()) {
    if (auto m = q->second.find(seq); m != q->second.end()) m->second.delivered = true;
  }
}

void memory_store::set_retention(broker::store::retention r) {
  std::lock_guard lock(mutex_);
  retention_ = r;
}

broker::store::store_stats memory_store::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool memory_store::writable() const {
  std::lock_guard lock(mutex_);
  return !last_failed_;
}

void memory_store::set_failing(bool failing) {
  std::lock_guard lock(mutex_);
  failing_ = failing;
}

}  // namespace fuzz
