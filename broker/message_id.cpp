#include "broker/message_id.hpp"

#include <fmt/format.h>

#include <random>

namespace broker {

message_id::message_id() {
  // random_device alone so two brokers started in the same second never share a boot id.
  std::random_device rd;
  const std::uint64_t hi = rd();
  const std::uint64_t lo = rd();
  boot_ = fmt::format("{:016x}", (hi << 32) ^ lo);
}

std::string message_id::next() {
  return fmt::format("{}-{}", boot_, counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

}  // namespace broker
