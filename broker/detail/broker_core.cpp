#include "broker/detail/broker_core.hpp"

#include "auth/rules_authorizer.hpp"
#include "broker/memory_history.hpp"
#include "broker/store/sqlite_store.hpp"

namespace broker::detail {
namespace {

std::shared_ptr<store::store> make_store(const config& c) {
  std::shared_ptr<store::store> s = c.store;
  if (!s) {  // no durability configured: same behaviour, kept in memory
    store::sqlite_options o;
    o.data_dir = ":memory:";
    s = std::make_shared<store::sqlite_store>(std::move(o));
  }
  s->set_retention(store::retention{c.user_queue_max_messages, c.user_queue_max_age});
  return s;
}

std::shared_ptr<history> make_history(const config& c,
                                      const std::shared_ptr<byte_budget>& held) {
  if (c.history_store) return c.history_store;
  if (c.history.empty()) return nullptr;
  return std::make_shared<memory_history>(c.history, held);
}

}  // namespace

broker_core::broker_core(config c)
    : cfg(std::move(c)),
      authorizer(cfg.authorizer ? cfg.authorizer : std::make_shared<auth::rules_authorizer>()),
      store(make_store(cfg)),
      reg(cfg.queue_max_messages, cfg.queue_max_bytes, held_budget),
      history(make_history(cfg, held_budget), reg),
      users(store, counters) {}

std::error_code broker_core::route(const message_ptr& m, user_router::done_fn on_stored) {
  if (m->target.is_user()) {
    bump(counters.messages_published);
    users.route(m, std::move(on_stored));
    return {};
  }
  if (cluster && m->target.kind == destination_kind::queue) {
    // No publisher to pause here (the publish API): refused at the bound.
    enqueue_shared(m, false, [done = std::move(on_stored)](std::error_code ec, bool) {
      if (done) done(ec, 0);
    });
    return {};
  }
  if (history.keeps(m->target)) {  // a topic with [[history]]: stamped, kept, then fanned out
    bump(counters.messages_published);
    if (history.shared()) {  // a cluster: Redis stamps and keeps it, every node fans it out
      history.route_shared(m, [done = std::move(on_stored)](std::error_code ec) {
        if (done) done(ec, 0);
      });
      return {};
    }
    history.route(m, now());
    return {};
  }
  const std::error_code ec = reg.route(m);
  bump(ec ? counters.messages_dropped : counters.messages_published);
  return ec;
}

void broker_core::enqueue_shared(const message_ptr& m, bool flow_control,
                                 std::function<void(std::error_code, bool)> done) {
  bump(counters.messages_published);
  const std::size_t bound = cfg.queue_max_messages;
  cluster->enqueue(m, bound, flow_control ? queue::hard_max_for(bound) : bound, std::move(done));
}

bool broker_core::allowed(const auth::principal& who, auth::action what,
                          const destination& d) const {
  return authorizer->allowed(who, what, d.resolved());
}

}  // namespace broker::detail
