#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "broker/connection.hpp"
#include "broker/destination.hpp"
#include "stomp/frame.hpp"
#include "stomp/serializer.hpp"
#include "stomp/version.hpp"

namespace broker {

/// One routed message: built once from a SEND, shared (immutable) by every target.
struct message {
  std::string id;           ///< the MESSAGE's message-id
  destination target;       ///< canonical SEND destination (never a wildcard)
  /// From the `expires` header (ms since the epoch); nullopt = never (header absent or 0).
  std::optional<std::chrono::system_clock::time_point> expires;
  bool redelivered = false;  ///< the wire form carries redelivered:true
  std::shared_ptr<const stomp::shared_message> wire;  ///< serialised once per version used
  /// Clustered /queue/ only: the entry in the shared queue this node took it from (the cluster
  /// link's id, handed back to it in cluster_link::settle); empty otherwise.
  std::string cluster_ref;

  /// True once `expires` has passed.
  bool expired(std::chrono::system_clock::time_point now) const noexcept {
    return expires && *expires <= now;
  }
};

/// Messages are shared, never mutated after make_message.
using message_ptr = std::shared_ptr<const message>;

/// Builds the MESSAGE for `send` (its destination already parsed into `target`): broker headers
/// (destination, message-id) first, then the sender's other headers in order with duplicates kept
/// (first wins); receipt, transaction, content-length and any broker-owned header the sender set
/// (subscription, ack, redelivered) are dropped. Error: error::invalid_expires.
std::error_code make_message(stomp::frame send, destination target, std::string id,
                             message_ptr& out);

/// Sets `header` of a SEND to `sender`, the authenticated name, after removing every header of
/// that name the client set; an empty `sender` (anonymous) leaves none. config::stamp_sender.
void stamp_sender(stomp::frame& send, std::string_view header, std::string_view sender);

/// True when stamp_sender may use `header`: a legal, non-empty header name the broker does not
/// own (not destination, message-id, subscription, ack, ...). For the start-up check.
bool valid_sender_header(std::string_view header) noexcept;

/// Bytes a held frame or message is charged to the byte budgets (queues, transactions, the
/// server's config::max_held_bytes): body + header names and values + held_overhead for the
/// objects around them. The one measure every budget uses. The per-version wire form built at
/// delivery is not counted: it lives only while a connection writes it.
std::size_t held_size(const stomp::frame& f) noexcept;
std::size_t held_size(const message& m) noexcept;
/// The fixed part of held_size: allocations, shared_ptr control blocks, map nodes.
inline constexpr std::size_t held_overhead = 256;

/// The same message with `redelivered:true` (for queue redelivery); `m` itself when it already is.
message_ptr redelivered_copy(const message_ptr& m);

/// The same message with `x-position:<position>` (topic history) right after message-id, in
/// place of any x-position the sender set. One copy of the common part per publish.
message_ptr with_position(const message_ptr& m, std::string_view position);

/// What the durable store keeps of `m`: its common part (every header but subscription/ack,
/// body) serialised as a STOMP 1.2 MESSAGE frame.
std::string stored_form(const message_ptr& m);

/// Rebuilds a message from stored_form bytes for `target` (the user queue it was stored for).
/// False when the bytes are not one MESSAGE frame with a message-id (a corrupt row).
bool restore_message(std::string_view payload, destination target, message_ptr& out);

/// `m->expires` in ms since the epoch; 0 = never (the store's convention).
std::int64_t expires_ms(const message_ptr& m) noexcept;

/// The bytes for one subscriber: the shared tail for `v` plus this subscription's head.
/// `droppable` for topic messages only.
outgoing encode(const message_ptr& m, std::string_view subscription, std::string_view ack,
                stomp::version v);

}  // namespace broker
