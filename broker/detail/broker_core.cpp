#include "broker/detail/broker_core.hpp"

#include "auth/rules_authorizer.hpp"
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

}  // namespace

void expiry_list::add(std::uint64_t no, entry e) {
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(no, std::move(e));
}

void expiry_list::remove(std::uint64_t no) {
  std::lock_guard lock(mutex_);
  entries_.erase(no);
}

std::vector<expiry_list::entry> expiry_list::due(std::chrono::system_clock::time_point now) const {
  std::vector<entry> out;
  std::lock_guard lock(mutex_);
  for (const auto& [no, e] : entries_) {
    if (e.expires <= now) out.push_back(e);
  }
  return out;
}

void budget_waiters::add(std::uint64_t no, entry e) {
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(no, std::move(e));
}

void budget_waiters::remove(std::uint64_t no) {
  std::lock_guard lock(mutex_);
  entries_.erase(no);
}

std::vector<budget_waiters::entry> budget_waiters::all() const {
  std::vector<entry> out;
  std::lock_guard lock(mutex_);
  out.reserve(entries_.size());
  for (const auto& [no, e] : entries_) out.push_back(e);
  return out;
}

broker_core::broker_core(config c)
    : cfg(std::move(c)),
      authorizer(cfg.authorizer ? cfg.authorizer : std::make_shared<auth::rules_authorizer>()),
      store(make_store(cfg)),
      reg(cfg.queue_max_messages, cfg.queue_max_bytes, held_budget),
      users(store, counters) {}

std::error_code broker_core::route(const message_ptr& m, user_router::done_fn on_stored) {
  if (m->target.is_user()) {
    bump(counters.messages_published);
    users.route(m, std::move(on_stored));
    return {};
  }
  if (cluster && m->target.kind == destination_kind::queue) {
    bump(counters.messages_published);
    cluster->enqueue(m, cfg.queue_max_messages,
                     [done = std::move(on_stored)](std::error_code ec) {
                       if (done) done(ec, 0);
                     });
    return {};
  }
  const std::error_code ec = reg.route(m);
  bump(ec ? counters.messages_dropped : counters.messages_published);
  return ec;
}

bool broker_core::allowed(const auth::principal& who, auth::action what,
                          const destination& d) const {
  return authorizer->allowed(who, what, d.resolved());
}

}  // namespace broker::detail
