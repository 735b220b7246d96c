#include "transport/detail/admission.hpp"

namespace transport::detail {

admission_ticket& admission_ticket::operator=(admission_ticket&& o) noexcept {
  if (this != &o) {
    release();
    from_ = std::move(o.from_);
    ip_ = std::move(o.ip_);
  }
  return *this;
}

void admission_ticket::release() noexcept {
  if (auto from = std::move(from_)) from->leave(ip_);
}

std::optional<refusal> admission::try_enter(const std::string& ip, admission_ticket& ticket) {
  {
    std::lock_guard lock(mutex_);
    if (max_total_ > 0 && total_ >= max_total_) return refusal::max_connections;
    if (!ip.empty()) {
      std::size_t& from_ip = per_ip_[ip];
      if (max_per_ip_ > 0 && from_ip >= max_per_ip_) return refusal::max_connections_per_ip;
      ++from_ip;
    }
    ++total_;
  }
  ticket = admission_ticket(shared_from_this(), ip);
  return std::nullopt;
}

std::optional<refusal> admission::rekey(admission_ticket& ticket, const std::string& ip) {
  if (ticket.ip_ == ip) return std::nullopt;
  std::lock_guard lock(mutex_);
  std::size_t& to_ip = per_ip_[ip];
  if (max_per_ip_ > 0 && to_ip >= max_per_ip_) return refusal::max_connections_per_ip;
  ++to_ip;
  forget_locked(ticket.ip_);
  ticket.ip_ = ip;
  return std::nullopt;
}

void admission::leave(const std::string& ip) noexcept {
  std::lock_guard lock(mutex_);
  --total_;
  forget_locked(ip);
}

void admission::forget_locked(const std::string& ip) noexcept {
  if (ip.empty()) return;  // never counted per IP
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

std::size_t admission::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace transport::detail
