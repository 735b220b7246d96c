#include "transport/sockjs/sockjs_table.hpp"

#include <algorithm>

namespace transport::detail {

sockjs_table::lookup sockjs_table::find_locked(const std::string& id, clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return {};
  if (!it->second.close_frame.empty()) {
    if (now < it->second.until) return {nullptr, it->second.close_frame};
    entries_.erase(it);
    return {};
  }
  if (auto s = it->second.live.lock()) return {std::move(s), {}};
  entries_.erase(it);  // gone without retiring (never started): forget it
  return {};
}

sockjs_table::lookup sockjs_table::find(const std::string& id) {
  std::lock_guard lock(mu_);
  return find_locked(id, clock::now());
}

sockjs_table::lookup sockjs_table::find_or_create(
    const std::string& id, const std::function<std::shared_ptr<sockjs_session>()>& make,
    bool& created) {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  created = false;
  auto found = find_locked(id, now);
  if (found.live || !found.close_frame.empty()) return found;
  if (entries_.size() >= purge_at_) purge_locked(now);
  auto s = make();
  entries_[id].live = s;
  created = true;
  return {std::move(s), {}};
}

void sockjs_table::retire(const std::string& id, std::string close_frame,
                          clock::time_point until) {
  std::lock_guard lock(mu_);
  auto& e = entries_[id];
  e.live.reset();
  e.close_frame = std::move(close_frame);
  e.until = until;
}

void sockjs_table::erase(const std::string& id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

std::size_t sockjs_table::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

// Ended sessions are dropped lazily, here, so that they cost no timer: the table is purged
// whenever it doubles, which keeps the work per created session constant on average.
void sockjs_table::purge_locked(clock::time_point now) {
  std::erase_if(entries_, [now](const auto& kv) {
    const auto& e = kv.second;
    return e.close_frame.empty() ? e.live.expired() : now >= e.until;
  });
  purge_at_ = std::max<std::size_t>(64, entries_.size() * 2);
}

}  // namespace transport::detail
