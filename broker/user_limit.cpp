#include "broker/user_limit.hpp"

namespace broker {

bool user_limit::try_enter(const std::string& user) {
  std::lock_guard lock(mutex_);
  auto& n = counts_[user];
  if (max_ > 0 && n >= max_) {
    if (n == 0) counts_.erase(user);
    return false;
  }
  ++n;
  return true;
}

void user_limit::leave(const std::string& user) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(user);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);  // the map holds only users with sessions
}

std::size_t user_limit::count(const std::string& user) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(user);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace broker
