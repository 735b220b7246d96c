#include "transport/detail/admission.hpp"

namespace transport::detail {

std::optional<refusal> admission::try_enter(const std::string& ip, const std::string& remote) {
  std::lock_guard lock(mutex_);
  if (max_total_ > 0 && by_remote_.size() >= max_total_) return refusal::max_connections;
  auto it = per_ip_.find(ip);
  const std::size_t from_ip = it == per_ip_.end() ? 0 : it->second;
  if (max_per_ip_ > 0 && from_ip >= max_per_ip_) return refusal::max_connections_per_ip;
  if (!by_remote_.emplace(remote, ip).second) return std::nullopt;  // already counted
  ++per_ip_[ip];
  return std::nullopt;
}

void admission::leave(const std::string& remote) {
  std::lock_guard lock(mutex_);
  auto it = by_remote_.find(remote);
  if (it == by_remote_.end()) return;
  auto ip = per_ip_.find(it->second);
  if (ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
  by_remote_.erase(it);
}

std::size_t admission::total() const {
  std::lock_guard lock(mutex_);
  return by_remote_.size();
}

}  // namespace transport::detail
