#include "transport/sockjs/sockjs_table.hpp"

#include <algorithm>

namespace transport::detail {

namespace {

// Compares every byte whatever the first difference: the time taken tells nothing of the value.
bool same_secret(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  }
  return diff == 0;
}

}  // namespace

// Browsers that refuse the cookie (third-party cookie blocking, a cross-site page over plain
// HTTP where SameSite=None is not allowed) never present it: the address alone binds their
// sessions. A browser that presented it once keeps presenting it, so from then on its absence
// means another client.
bool sockjs_table::owned_by_locked(entry& e, const sockjs_client& who) {
  if (who.ip != e.owner_ip) return false;
  if (who.cookie.empty()) return !e.cookie_seen;
  if (!same_secret(who.cookie, e.cookie)) return false;
  e.cookie_seen = true;
  return true;
}

sockjs_table::lookup sockjs_table::find_locked(const std::string& id, const sockjs_client& who,
                                               clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return {};
  entry& e = it->second;
  const bool ended = !e.close_frame.empty();
  auto live = e.live.lock();
  // A tombstone past its time, or a session gone without retiring (never started): forget it.
  if (ended ? now >= e.until : !live) {
    entries_.erase(it);
    return {};
  }
  if (!owned_by_locked(e, who)) return {nullptr, {}, true};
  if (ended) return {nullptr, e.close_frame};
  return {std::move(live), {}};
}

sockjs_table::lookup sockjs_table::find(const std::string& id, const sockjs_client& who) {
  std::lock_guard lock(mu_);
  return find_locked(id, who, clock::now());
}

sockjs_table::lookup sockjs_table::find_or_create(
    const std::string& id, const sockjs_client& who, std::string cookie,
    const std::function<std::shared_ptr<sockjs_session>()>& make, bool& created) {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  created = false;
  auto found = find_locked(id, who, now);
  if (found.live || !found.close_frame.empty() || found.foreign) return found;
  if (entries_.size() >= purge_at_) purge_locked(now);
  auto s = make();
  auto& e = entries_[id];
  e = entry{};
  e.live = s;
  e.owner_ip = who.ip;
  e.cookie = std::move(cookie);
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
