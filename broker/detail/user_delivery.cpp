// The session's side of user destinations (Spring semantics, see detail/user_router.hpp):
// resolving `/user/queue/x` to the subscriber, durable SENDs whose RECEIPT waits for the commit,
// and credential expiry. Feeding a user-queue subscription is in user_feed.cpp.
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"
#include "broker/printable.hpp"
#include "broker/store/error.hpp"

namespace broker::detail {

std::error_code stomp_session::resolve_user(subscription& sub, std::string& detail) const {
  if (!sub.dest.is_user()) return {};
  if (sub.dest.owner.empty()) {
    if (principal_.name.empty()) {
      detail = "log in to subscribe to " + sub.dest.name;
      return error::anonymous_user_destination;
    }
    resolve_owner(sub.dest, principal_.name);
  }
  sub.user_key = sub.dest.resolved();
  return {};
}

void stomp_session::subscribe_user(subscription& sub, std::size_t prefetch) {
  sub.handle = core_.reg.next_handle();
  const std::uint64_t handle = sub.handle;
  const bool durable = sub.dest.kind == destination_kind::user_queue;
  if (durable) {
    sub.feed = std::make_shared<user_feed>();
    sub.feed->key = sub.user_key;
    sub.feed->handle = handle;
    sub.feed->ack = sub.ack;
    sub.feed->prefetch = sub.ack == ack_mode::automatic ? 0 : prefetch;
  }
  core_.users.subscribe(sub.user_key, user_subscriber{handle, conn_, weak_from_this()}, durable);
  by_handle_.emplace(handle, sub.id);
  const std::string id = sub.id;
  auto feed = sub.feed;
  subscriptions_.emplace(id, std::move(sub));
  if (feed) pump(*feed);  // the stored backlog, oldest first
}

void stomp_session::deliver_user(std::uint64_t handle, std::uint64_t seq, const message_ptr& m) {
  if (state_ != state::connected) return;
  subscription* sub = find_by_handle(handle);
  if (!sub) return;  // unsubscribed since the post
  if (sub->feed) return deliver_live(*sub, seq, m);
  if (m->expired(std::chrono::system_clock::now())) {
    bump(core_.counters.messages_expired);
    return;
  }
  send_message(*sub, m, 0);  // a user topic: as a topic
}

// Tickets order the durable SENDs of this session: a COMMIT's RECEIPT waits for every store
// submitted before it (receipt_after_stores).
void stomp_session::send_durable(const message_ptr& m, stomp::frame cause) {
  const std::uint64_t ticket = ++store_tickets_;
  const std::size_t bytes = held_size(*m);
  rare().unsettled_stores.emplace(ticket, bytes);
  held_.add(bytes);
  // On the store's (the cluster link's) thread: back to this session's strand. `full`: the
  // clustered /queue/ reached its bound with `m` (flow control: the publisher pauses).
  auto stored = [conn = conn_, self = weak_from_this(), cause = std::move(cause), ticket, m](
                    std::error_code ec, bool full) {
    if (auto c = conn.lock()) {
      c->post([self, ec, cause, ticket, full_of = full ? m : nullptr] {
        if (auto s = self.lock()) s->on_stored(ec, cause, ticket, full_of);
      });
    }
  };
  if (core_.cluster && m->target.kind == destination_kind::queue) {
    return core_.enqueue_shared(m, core_.cfg.flow_control, std::move(stored));
  }
  core_.route(m, [stored = std::move(stored)](std::error_code ec, std::uint64_t) {
    stored(ec, false);
  });
}

void stomp_session::on_stored(std::error_code ec, const stomp::frame& cause, std::uint64_t ticket,
                              const message_ptr& shared_full) {
  auto& unsettled = rare().unsettled_stores;
  if (auto it = unsettled.find(ticket); it != unsettled.end()) {
    held_.release(it->second);
    rare().unsettled_stores.erase(it);
  }
  on_store_settled();  // flow control: may resume reading
  if (ec) {
    // A DISCONNECT or COMMIT waiting for this store never gets its RECEIPT: the client learns
    // of the loss.
    if (rare().deferred_disconnect) state_ = state::connected;
    rare().deferred_disconnect.reset();
    receipts_after_stores_.clear();
    if (ec == error::queue_full) {  // a clustered /queue/ at its bound (at twice it: flow control)
      const std::size_t bound = core_.cfg.queue_max_messages;
      return fail(ec, &cause,
                  std::string(cause.get("destination").value_or("the queue")) +
                      (core_.cfg.flow_control
                           ? " holds twice its bound of waiting messages (" +
                                 std::to_string(queue::hard_max_for(bound)) +
                                 "): the publisher does not slow down"
                           : " already holds its maximum number of waiting messages "
                             "(queues.max_messages = " + std::to_string(bound) + ")"));
    }
    if (ec == store::error::too_few_replicas) {  // [cluster] min_replicas (WAIT)
      return fail(error::message_not_stored, &cause,
                  "fewer Redis replicas than cluster.min_replicas confirmed the message in "
                  "time: it may be stored, and may be delivered (sending it again may "
                  "duplicate it)",
                  close_reason::server_error);
    }
    return fail(error::message_not_stored, &cause,
                "the message was not stored (" + ec.message() + "); send it again later",
                close_reason::server_error);
  }
  if (state_ == state::connected || rare().deferred_disconnect) send_receipt(cause);  // not after ERROR
  if (shared_full) wait_shared_room(shared_full->target.name);
  const std::uint64_t oldest = unsettled.empty() ? UINT64_MAX : unsettled.begin()->first;
  while (!receipts_after_stores_.empty() && receipts_after_stores_.front().first < oldest) {
    if (state_ == state::connected || rare().deferred_disconnect) {
      stomp::frame receipt_of;
      receipt_of.add("receipt", receipts_after_stores_.front().second);
      send_receipt(receipt_of);
    }
    receipts_after_stores_.pop_front();
  }
  if (rare().deferred_disconnect && rare().unsettled_stores.empty()) {
    const stomp::frame f = std::move(*rare().deferred_disconnect);
    rare().deferred_disconnect.reset();
    disconnect(f);
  }
}

// The RECEIPT of `cause` (a COMMIT) once every durable SEND submitted so far is stored.
void stomp_session::receipt_after_stores(const stomp::frame& cause) {
  if (rare().unsettled_stores.empty()) return send_receipt(cause);
  const auto receipt = cause.get("receipt");
  if (!receipt) return;
  receipts_after_stores_.emplace_back(store_tickets_, std::string(*receipt));
}

void stomp_session::check_expiry() {
  if (state_ != state::connected || !principal_.expires || *principal_.expires > core_.now()) {
    return;
  }
  bump(core_.counters.tokens_expired);
  spdlog::info("session {} ({}): the credentials of \"{}\" expired", id_, remote_,
               printable(principal_.name));
  fail(error::token_expired, nullptr, "token expired", close_reason::auth_failed);
}

}  // namespace broker::detail
