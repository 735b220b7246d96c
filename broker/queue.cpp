#include "broker/queue.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker {

queue::queue(std::string name, std::size_t max_waiting, cluster_link* link,
             std::size_t max_bytes, std::shared_ptr<byte_budget> held)
    : name_(std::move(name)),
      max_waiting_(max_waiting),
      max_bytes_(max_bytes),
      budget_(std::move(held)),
      link_(link) {}

// What is still held goes back to the server-wide budget with the queue.
queue::~queue() {
  if (budget_ != nullptr) budget_->release(held_);
}

std::error_code queue::enqueue(message_ptr m) {
  keep_alive keep;  // destroyed after the lock: a connection's last owner may be us
  std::lock_guard lock(mutex_);
  if (!fits_locked(held_size(*m), max_waiting_, max_bytes_)) return error::queue_full;
  push_back_locked(std::move(m));
  dispatch_locked(keep);
  return {};
}

std::error_code queue::enqueue(message_ptr m, const queue_waiter& w, bool& paused) {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  if (!fits_locked(held_size(*m), hard_max(), hard_max_bytes())) return error::queue_full;
  push_back_locked(std::move(m));
  dispatch_locked(keep);
  paused = full_locked();
  if (paused) waiters_.insert_or_assign(w.session_no, w);
  return {};
}

// A message alone always fits the byte bound, whatever its size (it was accepted as a frame).
bool queue::fits_locked(std::size_t bytes, std::size_t max_n, std::size_t max_b) const {
  if (waiting_.size() >= max_n) return false;
  return max_b == 0 || waiting_.empty() || waiting_bytes_ + bytes <= max_b;
}

bool queue::full_locked() const {
  return waiting_.size() >= max_waiting_ || (max_bytes_ != 0 && waiting_bytes_ >= max_bytes_);
}

// Every message enters the queue here (or in requeue_locked) and is charged while it stays.
void queue::push_back_locked(message_ptr m) {
  const std::size_t bytes = held_size(*m);
  waiting_bytes_ += bytes;
  held_ += bytes;
  if (budget_ != nullptr) budget_->charge(bytes);
  ++enqueued_;
  waiting_.push_back(std::move(m));
}

// Out of waiting_, still held (in flight, or about to leave through release_locked).
message_ptr queue::pop_front_locked() {
  message_ptr m = std::move(waiting_.front());
  waiting_.pop_front();
  waiting_bytes_ -= held_size(*m);
  return m;
}

void queue::set_link(cluster_link* link) {
  std::lock_guard lock(mutex_);
  link_ = link;
}

void queue::enqueue_taken(message_ptr m) {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  push_back_locked(std::move(m));
  dispatch_locked(keep);
}

std::size_t queue::room() const {
  std::lock_guard lock(mutex_);
  return room_locked();
}

std::size_t queue::room_locked() const {
  std::size_t free = 0;
  for (const consumer_state& c : consumers_) {
    const std::size_t window =
        !c.spec.auto_ack && c.spec.prefetch > 0 ? c.spec.prefetch : cluster_window;
    if (c.in_flight.size() < window) free += window - c.in_flight.size();
  }
  return free > waiting_.size() ? free - waiting_.size() : 0;
}

// Under mutex_ (link_ may change). The link only posts to its own strand.
void queue::tell_room_locked() {
  if (link_) link_->queue_room(name_);
}

void queue::forget_waiter(std::uint64_t session_no) {
  std::lock_guard lock(mutex_);
  waiters_.erase(session_no);
  shared_waiters_.erase(session_no);
}

void queue::wait_shared(const queue_waiter& w) {
  std::lock_guard lock(mutex_);
  shared_waiters_.insert_or_assign(w.session_no, w);
}

void queue::wake_shared_waiters() {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  tell_waiters_locked(shared_waiters_, keep);
}

std::size_t queue::hard_max_for(std::size_t max_waiting) noexcept {
  constexpr std::size_t min_slack = 4096;
  return max_waiting + std::max(max_waiting, min_slack);
}

void queue::add_consumer(queue_consumer c) {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  consumers_.push_back(consumer_state{std::move(c), {}});
  dispatch_locked(keep);
  tell_room_locked();
}

void queue::remove_consumer(std::uint64_t handle) {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < consumers_.size(); ++i) {
    if (consumers_[i].spec.handle == handle) {
      erase_consumer_locked(i);
      break;
    }
  }
  dispatch_locked(keep);
}

void queue::settle(std::uint64_t handle, const std::vector<std::uint64_t>& deliveries,
                   bool requeue) {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  for (consumer_state& c : consumers_) {
    if (c.spec.handle != handle) continue;
    std::map<std::uint64_t, message_ptr> back;
    for (std::uint64_t id : deliveries) {
      auto node = c.in_flight.extract(id);
      if (node.empty()) continue;
      if (requeue) {
        back.insert(std::move(node));
      } else {
        release_locked(node.mapped());
      }
    }
    requeue_locked(back);
    break;
  }
  dispatch_locked(keep);
  tell_room_locked();
}

std::size_t queue::purge_expired() {
  const auto now = std::chrono::system_clock::now();
  keep_alive keep;
  std::lock_guard lock(mutex_);
  expired_ += std::erase_if(waiting_, [&](const message_ptr& m) {
    if (!m->expired(now)) return false;
    waiting_bytes_ -= held_size(*m);
    release_locked(m);
    return true;
  });
  wake_locked(keep);
  return std::exchange(expired_, 0);
}

queue_counts queue::counts() const {
  std::lock_guard lock(mutex_);
  queue_counts c{consumers_.size(), waiting_.size(), 0, enqueued_, next_delivery_};
  for (const auto& consumer : consumers_) c.in_flight += consumer.in_flight.size();
  return c;
}

std::size_t queue::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::size_t queue::in_flight() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const consumer_state& c : consumers_) n += c.in_flight.size();
  return n;
}

std::size_t queue::waiting_bytes() const {
  std::lock_guard lock(mutex_);
  return waiting_bytes_;
}

std::size_t queue::held_bytes() const {
  std::lock_guard lock(mutex_);
  return held_;
}

void queue::dispatch_locked(keep_alive& keep) {
  hand_out_locked(keep);
  if (link_ && consumers_.empty()) give_back_locked();
  wake_locked(keep);
}

// A message leaves for good (out of waiting_ or in_flight already): its bytes go back to the
// budget, and the shared queue forgets it (clustered).
void queue::release_locked(const message_ptr& m) {
  uncharge_locked(held_size(*m));
  if (link_ && !m->cluster_ref.empty()) link_->settle(m, false);
}

void queue::uncharge_locked(std::size_t bytes) {
  held_ -= bytes;
  if (budget_ != nullptr) budget_->release(bytes);
}

// No local consumer is left: what this node took goes back to the shared queue, for the others.
void queue::give_back_locked() {
  for (const message_ptr& m : waiting_) {
    uncharge_locked(held_size(*m));
    if (!m->cluster_ref.empty()) link_->settle(m, true);
  }
  waiting_.clear();
  waiting_bytes_ = 0;
}

// Once drained to the low watermark, every paused publisher is told (posted: no session runs
// under the mutex); each resumes reading on its own strand.
void queue::wake_locked(keep_alive& keep) {
  if (waiters_.empty() || waiting_.size() > low_watermark() ||
      (max_bytes_ != 0 && waiting_bytes_ > max_bytes_ - max_bytes_ / 10)) {
    return;
  }
  tell_waiters_locked(waiters_, keep);
}

void queue::tell_waiters_locked(std::map<std::uint64_t, queue_waiter>& waiters,
                                keep_alive& keep) {
  for (auto& [no, w] : waiters) {
    auto conn = w.conn.lock();
    if (!conn) continue;
    keep.push_back(conn);
    conn->post([q = shared_from_this(), s = w.session] {
      if (auto target = s.lock()) target->on_queue_room(q);
    });
  }
  waiters.clear();
}

// Hands waiting messages to consumers with capacity until either runs out. Expired messages are
// dropped here, when they would be dispatched.
void queue::hand_out_locked(keep_alive& keep) {
  const auto now = std::chrono::system_clock::now();
  while (!waiting_.empty()) {
    if (waiting_.front()->expired(now)) {
      release_locked(pop_front_locked());
      ++expired_;
      continue;
    }
    const std::size_t index = pick_locked();
    if (index == consumers_.size()) return;
    auto conn = consumers_[index].spec.conn.lock();
    if (!conn) {  // the connection is gone without its session cleaning up yet
      erase_consumer_locked(index);
      continue;
    }
    keep.push_back(conn);
    post_locked(consumers_[index], conn, pop_front_locked());
  }
}

// Round-robin: the first consumer with capacity at or after next_.
std::size_t queue::pick_locked() {
  const std::size_t n = consumers_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (next_ + k) % n;
    const consumer_state& c = consumers_[i];
    if (c.spec.auto_ack || c.spec.prefetch == 0 || c.in_flight.size() < c.spec.prefetch) {
      next_ = i + 1;
      return i;
    }
  }
  return n;
}

void queue::requeue_locked(std::map<std::uint64_t, message_ptr>& msgs) {
  // Reverse delivery order onto the front keeps the original order at the head.
  // The copy carries one more header: its bytes replace the original's.
  for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
    uncharge_locked(held_size(*it->second));
    message_ptr copy = redelivered_copy(it->second);
    const std::size_t bytes = held_size(*copy);
    waiting_bytes_ += bytes;
    held_ += bytes;
    if (budget_ != nullptr) budget_->charge(bytes);
    waiting_.push_front(std::move(copy));
  }
}

void queue::erase_consumer_locked(std::size_t index) {
  requeue_locked(consumers_[index].in_flight);
  consumers_.erase(consumers_.begin() + static_cast<std::ptrdiff_t>(index));
  if (next_ > index) --next_;
}

void queue::post_locked(consumer_state& c, const std::shared_ptr<connection>& conn,
                        message_ptr m) {
  const std::uint64_t delivery = ++next_delivery_;
  c.in_flight.emplace(delivery, m);
  // If the session is gone when this runs, give the message back; if the connection drops this
  // function unrun, the session's on_closed (or destructor) removes the consumer and requeues.
  conn->post([q = shared_from_this(), s = c.spec.session, handle = c.spec.handle, delivery,
              m = std::move(m)] {
    if (auto target = s.lock()) {
      target->deliver_queued(q, handle, delivery, m);
    } else {
      q->remove_consumer(handle);
    }
  });
}

}  // namespace broker
