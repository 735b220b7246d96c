#pragma once

#include <atomic>
#include <cstdint>

#include "broker/broker.hpp"
#include "broker/message_id.hpp"
#include "broker/registry.hpp"

namespace broker::detail {

/// What every session of one broker shares. Owned by broker::impl; outlives its sessions.
/// Thread-safe: config is immutable, registry and id generators are.
struct broker_core {
  explicit broker_core(config c) : cfg(std::move(c)), reg(cfg.queue_max_messages) {}

  const config cfg;
  registry reg;
  message_id message_ids;               ///< MESSAGE message-id values
  message_id session_ids;               ///< CONNECTED session values
  std::atomic<std::uint64_t> next_session_no{0};  ///< registry key per session
};

}  // namespace broker::detail
