#pragma once

#include <system_error>

namespace broker {

/// Why the broker refused a client frame. One enumerator per protocol rule; message() is the
/// short text sent in the ERROR frame's `message` header.
enum class error {
  not_connected = 1,           ///< A frame other than CONNECT/STOMP before CONNECTED.
  already_connected,           ///< A second CONNECT/STOMP on one session.
  unsupported_version,         ///< No version in accept-version that we speak.
  invalid_heart_beat,          ///< CONNECT heart-beat is not "cx,cy".
  access_refused,              ///< Authentication failed (the reason is only logged).
  not_authorized,              ///< The authorizer refused this subscribe or send.
  unexpected_command,          ///< A server command (MESSAGE, RECEIPT, ...) sent by a client.
  missing_destination,         ///< SEND/SUBSCRIBE without `destination`.
  invalid_destination,         ///< Empty name, `..`, `%2F`, control characters, bad wildcard.
  unknown_destination_prefix,  ///< Neither /topic/, /queue/ nor /user/.
  wildcard_send,               ///< SEND to a destination holding `*` or `#`.
  wildcard_queue,              ///< SUBSCRIBE to a /queue/ with `*` or `#`.
  missing_id,                  ///< SUBSCRIBE/UNSUBSCRIBE/ACK/NACK without the id it needs.
  duplicate_subscription,      ///< SUBSCRIBE reusing an id of this session.
  unknown_subscription,        ///< UNSUBSCRIBE (or 1.1 ACK) naming no subscription.
  invalid_ack_mode,            ///< SUBSCRIBE ack other than auto/client/client-individual.
  invalid_prefetch,            ///< prefetch-count is not a decimal number.
  too_many_subscriptions,      ///< Over config::max_subscriptions_per_session.
  unknown_ack_id,              ///< ACK/NACK for no unacknowledged message of this session.
  missing_transaction,         ///< BEGIN/COMMIT/ABORT without `transaction`.
  unknown_transaction,         ///< COMMIT/ABORT/SEND/ACK naming a transaction not begun.
  transaction_already_begun,   ///< BEGIN with an id already open.
  transaction_too_large,       ///< Over config::max_transaction_frames.
  invalid_expires,             ///< `expires` is not a decimal number of ms since the epoch.
  queue_full,                  ///< The /queue/ holds config::queue_max_messages waiting messages.
  slow_consumer,               ///< The connection could not keep up with its messages.
  anonymous_user_destination,  ///< SUBSCRIBE to /user/queue/x by a session with no user name.
  message_not_stored,          ///< The durable store failed to keep a user-queue message.
  token_expired,               ///< The session's credentials (JWT `exp`) have expired.
  too_many_connections,        ///< The user already holds config::max_connections_per_user.
  send_rate_exceeded,          ///< SENDs faster than config::send_rate / send_burst allow.
  server_busy,                 ///< CONNECT while config::verify_queue password checks wait.
  too_many_transactions,       ///< BEGIN over config::max_transactions_per_session.
  session_held_too_large,      ///< Over config::max_session_held_bytes.
  server_memory_full,          ///< The server holds config::max_held_bytes (not flow-controlled).
  closed_by_admin,             ///< An administrator closed the connection (web console / API).
  invalid_recover_from,        ///< SUBSCRIBE x-recover-from is not EPOCH:OFFSET / DEST=EPOCH:OFFSET,...
};

/// The "broker" error category.
const std::error_category& category() noexcept;

std::error_code make_error_code(error e) noexcept;

}  // namespace broker

template <>
struct std::is_error_code_enum<broker::error> : std::true_type {};
