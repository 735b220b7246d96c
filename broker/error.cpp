#include "broker/error.hpp"

#include <string>

namespace broker {
namespace {

const char* describe(error e) noexcept {
  switch (e) {
    case error::not_connected: return "not connected";
    case error::already_connected: return "already connected";
    case error::unsupported_version: return "unsupported version";
    case error::invalid_heart_beat: return "invalid heart-beat header";
    case error::access_refused: return "access refused";
    case error::not_authorized: return "not authorized";
    case error::unexpected_command: return "unexpected command";
    case error::missing_destination: return "missing destination header";
    case error::invalid_destination: return "invalid destination";
    case error::unknown_destination_prefix: return "unknown destination prefix";
    case error::wildcard_send: return "cannot send to a wildcard destination";
    case error::wildcard_queue: return "wildcards are not allowed in queue destinations";
    case error::missing_id: return "missing id header";
    case error::duplicate_subscription: return "duplicate subscription id";
    case error::unknown_subscription: return "unknown subscription";
    case error::invalid_ack_mode: return "invalid ack mode";
    case error::invalid_prefetch: return "invalid prefetch-count header";
    case error::too_many_subscriptions: return "too many subscriptions";
    case error::unknown_ack_id: return "unknown ack id";
    case error::missing_transaction: return "missing transaction header";
    case error::unknown_transaction: return "unknown transaction";
    case error::transaction_already_begun: return "transaction already begun";
    case error::transaction_too_large: return "transaction too large";
    case error::invalid_expires: return "invalid expires header";
    case error::queue_full: return "queue full";
    case error::slow_consumer: return "slow consumer";
    case error::anonymous_user_destination: return "user destinations need a user";
    case error::message_not_stored: return "message not stored";
    case error::token_expired: return "token expired";
    case error::too_many_connections: return "too many connections";
    case error::send_rate_exceeded: return "send rate exceeded";
    case error::server_busy: return "server busy";
    case error::too_many_transactions: return "too many transactions";
    case error::session_held_too_large: return "session holds too much";
    case error::server_memory_full: return "server memory full";
    case error::closed_by_admin: return "closed by an administrator";
    case error::invalid_recover_from: return "invalid x-recover-from header";
  }
  return "unknown broker error";
}

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "broker"; }
  std::string message(int ev) const override { return describe(static_cast<error>(ev)); }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace broker
