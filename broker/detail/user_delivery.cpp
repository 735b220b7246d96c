// The session's side of user destinations (Spring semantics, see detail/user_router.hpp):
// resolving `/user/queue/x` to the subscriber, replaying a user queue's stored backlog, live
// deliveries deduplicated by store seq, durable SENDs whose RECEIPT waits for the commit, and
// credential expiry.
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

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

void stomp_session::subscribe_user(subscription& sub) {
  sub.handle = core_.reg.next_handle();
  const std::uint64_t handle = sub.handle;
  const destination d = sub.dest;
  const bool durable = d.kind == destination_kind::user_queue;
  core_.users.subscribe(sub.user_key, user_subscriber{handle, conn_, weak_from_this()}, durable);
  by_handle_.emplace(handle, sub.id);
  const std::string id = sub.id;
  subscriptions_.emplace(id, std::move(sub));
  if (durable) replay(handle, d);
}

// Registered first (live copies held by the router meanwhile), then the backlog is loaded page
// by page with store::load_async (a remote store never blocks this strand) and delivered here,
// oldest first; then the held live copies, whose seqs the backlog already sent are dropped by
// deliver_user. An append committed before registration is in the load, one after it is held:
// no gap, no duplicate. A load returns a prefix of the queue in seq order (the store assigns
// seqs and appends atomically), so "seq <= last replayed seq" is exactly "was in the replay".
void stomp_session::replay(std::uint64_t handle, const destination& d) {
  // A local class has the member function's access: the pages reach private members.
  static constexpr std::size_t page = 256;
  struct pager {
    static void load(const std::shared_ptr<stomp_session>& s, std::uint64_t handle,
                     const destination& d, std::uint64_t after) {
      s->core_.users.load_async(
          d, after, page,
          [conn = s->conn_, self = s->weak_from_this(), handle, d](
              std::vector<stored_delivery> batch, std::error_code ec) {
            // Inline or on the store's thread: back to the session's strand.
            auto c = conn.lock();
            if (!c) return;
            c->post([self, handle, d, batch = std::move(batch), ec] {
              if (auto target = self.lock()) on_page(target, handle, d, batch, ec);
            });
          });
    }

    static void on_page(const std::shared_ptr<stomp_session>& s, std::uint64_t handle,
                        const destination& d, const std::vector<stored_delivery>& batch,
                        std::error_code ec) {
      for (const stored_delivery& row : batch) {
        s->deliver_user(handle, row.seq, row.msg);
        if (subscription* sub = s->find_by_handle(handle)) sub->last_seq = row.seq;
      }
      if (ec) {
        spdlog::error("session {}: reading the backlog of {} failed: {}", s->id_, d.resolved(),
                      ec.message());
      } else if (batch.size() == page && s->state_ == state::connected &&
                 s->find_by_handle(handle)) {
        return load(s, handle, d, batch.back().seq);
      }
      for (const stored_delivery& live : s->core_.users.end_replay(d.resolved(), handle)) {
        s->deliver_user(handle, live.seq, live.msg);
      }
    }
  };
  pager::load(shared_from_this(), handle, d, 0);
}

void stomp_session::deliver_user(std::uint64_t handle, std::uint64_t seq, const message_ptr& m) {
  if (state_ != state::connected) return;
  subscription* sub = find_by_handle(handle);
  if (!sub) return;  // unsubscribed since the post
  // last_seq is the highest seq the backlog replay sent (set by replay only): a live copy at or
  // below it was in the replay. Live copies above it each come once (one fan-out per node) but
  // not always in seq order (several publishing nodes): delivered as they come, none skipped.
  if (seq != 0 && seq <= sub->last_seq) return;
  if (m->expired(std::chrono::system_clock::now())) {
    bump(core_.counters.messages_expired);
    return;
  }
  const std::string key = sub->user_key;  // read before sending: a send may end the session
  const bool automatic = sub->ack == ack_mode::automatic;
  send_message(*sub, m, 0, seq);
  if (seq == 0) return;
  if (automatic) {
    core_.users.acked(key, seq);  // auto: gone from the store once handed to the connection
  } else {
    core_.users.delivered(key, seq);
  }
}

void stomp_session::send_durable(const message_ptr& m, stomp::frame cause) {
  ++stores_in_flight_;
  core_.route(m, [conn = conn_, self = weak_from_this(), cause = std::move(cause)](
                     std::error_code ec, std::uint64_t) {
    // On the store's thread: back to this session's strand.
    if (auto c = conn.lock()) {
      c->post([self, ec, cause] {
        if (auto s = self.lock()) s->on_stored(ec, cause);
      });
    }
  });
}

void stomp_session::on_stored(std::error_code ec, const stomp::frame& cause) {
  --stores_in_flight_;
  on_store_settled();  // flow control: may resume reading
  if (ec) {
    // A DISCONNECT waiting for this store never gets its RECEIPT: the client learns of the loss.
    if (deferred_disconnect_) state_ = state::connected;
    deferred_disconnect_.reset();
    if (ec == error::queue_full) {  // a clustered /queue/ at its bound
      return fail(ec, &cause,
                  std::string(cause.get("destination").value_or("the queue")) +
                      " already holds its maximum number of waiting messages");
    }
    return fail(error::message_not_stored, &cause,
                "the message was not stored (" + ec.message() + "); send it again later",
                close_reason::server_error);
  }
  if (state_ == state::connected || deferred_disconnect_) send_receipt(cause);  // not after ERROR
  if (deferred_disconnect_ && stores_in_flight_ == 0) {
    const stomp::frame f = std::move(*deferred_disconnect_);
    deferred_disconnect_.reset();
    disconnect(f);
  }
}

void stomp_session::check_expiry() {
  if (state_ != state::connected || !principal_.expires || *principal_.expires > core_.now()) {
    return;
  }
  bump(core_.counters.tokens_expired);
  spdlog::info("session {} ({}): the credentials of \"{}\" expired", id_, peer_.remote,
               principal_.name);
  fail(error::token_expired, nullptr, "token expired", close_reason::auth_failed);
}

}  // namespace broker::detail
