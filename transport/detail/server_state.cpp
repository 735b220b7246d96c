#include "transport/detail/server_state.hpp"

#include <stdexcept>

#include "transport/detail/connection_base.hpp"

namespace transport::detail {

namespace {

proxy::cidr_set parse_trusted(const std::vector<std::string>& entries) {
  std::string bad;
  auto set = proxy::cidr_set::parse(entries, &bad);
  if (!set) throw std::invalid_argument("trusted_proxies: not an address or CIDR range: " + bad);
  return std::move(*set);
}

}  // namespace

server_state::server_state(boost::asio::io_context& ctx, broker::broker& b, server_config cfg)
    : ioc(ctx), broker(b), config(std::move(cfg)), trusted(parse_trusted(config.trusted_proxies)) {}

bool server_state::add(const std::shared_ptr<connection_base>& c) {
  std::lock_guard lock(mu_);
  if (stopping()) return false;
  live_.emplace(c.get(), c);
  return true;
}

void server_state::remove(const connection_base* c) {
  std::lock_guard lock(mu_);
  live_.erase(c);
}

std::size_t server_state::live_count() {
  std::lock_guard lock(mu_);
  return live_.size();
}

std::vector<std::shared_ptr<connection_base>> server_state::begin_stop() {
  std::lock_guard lock(mu_);
  stopping_.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<connection_base>> out;
  out.reserve(live_.size());
  for (auto& [key, weak] : live_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::shared_ptr<connection_base>> server_state::live() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<connection_base>> out;
  out.reserve(live_.size());
  for (auto& [key, weak] : live_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

void server_state::record_cut(connection_cut c) {
  std::lock_guard lock(cuts_mu_);
  cuts_.push_front(std::move(c));
  if (cuts_.size() > server::max_recent_cuts) cuts_.pop_back();
}

std::vector<connection_cut> server_state::recent_cuts() const {
  std::lock_guard lock(cuts_mu_);
  return {cuts_.begin(), cuts_.end()};
}

bool server_state::may_log_slow_consumer() noexcept {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto last = last_slow_log_.load(std::memory_order_relaxed);
  return now > last && last_slow_log_.compare_exchange_strong(last, now);
}

}  // namespace transport::detail
