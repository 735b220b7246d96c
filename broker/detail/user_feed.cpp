// Feeding a user-queue subscription from the durable store (see detail/user_router.hpp).
//
// A subscription pulls: it loads the next page after its cursor when it has room, hands the
// rows to the connection, and goes live once a load finds nothing more. Room is the delivery
// window (messages and bytes handed to the connection and not yet written) and, in the client
// ack modes, prefetch-count (delivered and not yet acked). A live copy that finds no room is
// dropped and the subscription pulls again: the message is stored, so a slow reader, or one
// with 10,000 stored messages, is fed as fast as it reads and holds no more than its window.
//
// A message leaves the store when it is acknowledged: ack:auto once its bytes were written to
// the socket (on_written), client modes at ACK. Whatever was handed out and not yet written
// when the connection ends stays stored, marked delivered (it may have been seen).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/printable.hpp"

namespace broker::detail {
namespace {

constexpr std::size_t max_page = 256;  // rows per load
// Out-of-order live copies (several nodes) remembered above the cursor; past this many the
// subscription pulls once, which moves the cursor past them.
constexpr std::size_t max_ahead = 1024;

}  // namespace

// How many more messages `feed` may be handed now (0: none).
std::size_t stomp_session::room(const user_feed& feed) const {
  const std::size_t window = std::max<std::size_t>(core_.cfg.delivery_window, 1);
  if (feed.unwritten >= window) return 0;
  // One message always fits in an empty window, whatever its size.
  if (feed.unwritten > 0 && feed.unwritten_bytes >= core_.cfg.delivery_window_bytes) return 0;
  std::size_t free = window - feed.unwritten;
  if (feed.prefetch > 0) {
    if (feed.unacked >= feed.prefetch) return 0;
    free = std::min(free, feed.prefetch - feed.unacked);
  }
  return free;
}

void stomp_session::pump(user_feed& feed) {
  if (state_ != state::connected || feed.live || feed.loading || feed.waiting) return;
  const std::size_t free = room(feed);
  if (free == 0) return;
  // Loads follow the writes in half windows, not one row per written frame; a client's ACK
  // (prefetch) lets the next message through at once.
  const std::size_t window = std::max<std::size_t>(core_.cfg.delivery_window, 1);
  const bool ack_bound = feed.prefetch > 0 && feed.prefetch - feed.unacked == free;
  if (!ack_bound && feed.unwritten > 0 && free * 2 < window) return;
  const subscription* sub = find_by_handle(feed.handle);
  if (!sub) return;
  feed.loading = true;
  feed.asked = std::min(free, max_page);
  core_.users.load_async(
      sub->dest, feed.handle, feed.cursor, feed.asked,
      [conn = conn_, self = weak_from_this(), handle = feed.handle](
          std::vector<stored_delivery> page, std::error_code ec, bool full, std::uint64_t changes) {
        // Inline or on the store's thread: back to the session's strand.
        auto c = conn.lock();
        if (!c) return;
        c->post([self, handle, page = std::move(page), ec, full, changes] {
          if (auto s = self.lock()) s->on_user_page(handle, page, ec, full, changes);
        });
      });
}

void stomp_session::on_user_page(std::uint64_t handle, const std::vector<stored_delivery>& page,
                                 std::error_code ec, bool full, std::uint64_t changes) {
  subscription* sub = find_by_handle(handle);
  if (!sub || !sub->feed) return;  // unsubscribed meanwhile
  user_feed& feed = *sub->feed;
  feed.loading = false;
  if (state_ != state::connected) return;
  for (const stored_delivery& row : page) {
    if (row.seq <= feed.cursor) continue;
    // The byte window may fill before the page ends: the rest is loaded again later.
    if (room(feed) == 0) return;
    feed.cursor = row.seq;
    if (feed.ahead.erase(row.seq) == 0) deliver_stored(*sub, row.seq, row.msg);
    if (state_ != state::connected) return;  // the send ended the session
  }
  feed.ahead.erase(feed.ahead.begin(), feed.ahead.upper_bound(feed.cursor));
  if (ec) {
    // Stays pulling: nudged at the next commit to this queue or the next tick (a second).
    // Nothing is lost, it is all stored.
    spdlog::error("session {}: reading the stored messages of {} failed: {}", id_,
                  printable(feed.key, 200),
                  ec.message());
    feed.waiting = true;
    core_.users.retry_load(feed.key, handle);
    return;
  }
  if (full) return pump(feed);
  switch (core_.users.go_live(feed.key, handle, changes)) {
    case live_answer::live:
      feed.live = true;
      return;
    case live_answer::reload:
      return pump(feed);
    case live_answer::wait:
      feed.waiting = true;
      return;
  }
}

void stomp_session::nudge_user(std::uint64_t handle) {
  subscription* sub = find_by_handle(handle);
  if (!sub || !sub->feed) return;
  sub->feed->waiting = false;
  pump(*sub->feed);
}

// A copy the router posted while we were live.
void stomp_session::deliver_live(subscription& sub, std::uint64_t seq, const message_ptr& m) {
  user_feed& feed = *sub.feed;
  if (!feed.live || seq <= feed.cursor || feed.ahead.contains(seq)) return;  // loaded instead
  if (room(feed) == 0 || feed.ahead.size() >= max_ahead) {
    // No room: pull again from the cursor once there is (this copy is stored). A full `ahead`
    // with room left pulls at once: no write completion may come to start it.
    feed.live = false;
    core_.users.go_pulling(feed.key, feed.handle);
    return pump(feed);
  }
  if (core_.users.ordered()) {
    feed.cursor = seq;  // copies arrive in seq order: everything below was handed out
  } else {
    feed.ahead.insert(seq);
  }
  deliver_stored(sub, seq, m);
}

void stomp_session::deliver_stored(const subscription& sub, std::uint64_t seq,
                                   const message_ptr& m) {
  user_feed& feed = *sub.feed;
  if (m->expired(std::chrono::system_clock::now())) {
    bump(core_.counters.messages_expired);
    core_.users.acked(feed.key, seq);
    return;
  }
  const std::uint64_t mark = ++next_mark_;
  const std::size_t bytes = send_message(sub, m, 0, seq, mark);
  ++feed.unwritten;
  feed.unwritten_bytes += bytes;
  unwritten_.push_back(unwritten_delivery{mark, sub.feed, seq, bytes});
  if (feed.ack != ack_mode::automatic) {
    ++feed.unacked;
    core_.users.delivered(feed.key, seq);  // redelivered if it comes back
  }
}

void stomp_session::on_written(std::uint64_t mark) {
  // Owned here: after an UNSUBSCRIBE the deliveries may hold the only references to a feed.
  std::shared_ptr<user_feed> last;
  while (!unwritten_.empty() && unwritten_.front().mark <= mark) {
    unwritten_delivery d = std::move(unwritten_.front());
    unwritten_.pop_front();
    user_feed& feed = *d.feed;
    --feed.unwritten;
    feed.unwritten_bytes -= d.bytes;
    if (feed.ack == ack_mode::automatic) core_.users.acked(feed.key, d.seq);  // delivered
    if (last && last != d.feed) pump(*last);
    last = std::move(d.feed);
  }
  if (last) pump(*last);
}

// An ACK or NACK of a user-queue message: ACK removes it; a NACKed one stays stored and comes
// back (redelivered) on the next subscribe. Either frees a prefetch place.
void stomp_session::settled_user(const pending_ack& p, bool positive) {
  auto it = subscriptions_.find(p.subscription);
  if (it == subscriptions_.end() || !it->second.feed) return;
  user_feed& feed = *it->second.feed;
  if (positive) core_.users.acked(feed.key, p.user_seq);
  if (feed.unacked > 0) --feed.unacked;
  pump(feed);
}

// The connection ended with deliveries not yet written: they stay stored, and since some of
// their bytes may have reached the client, they come back redelivered.
void stomp_session::release_unwritten() {
  for (const unwritten_delivery& d : unwritten_) {
    if (d.feed->ack == ack_mode::automatic) core_.users.delivered(d.feed->key, d.seq);
  }
  unwritten_.clear();
}

}  // namespace broker::detail
