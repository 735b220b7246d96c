#pragma once
// What travels between nodes on a Redis channel: one line of routing data, then the message's
// stored form (a STOMP 1.2 MESSAGE frame built by broker::stored_form, so the body may be
// binary and the message keeps its message-id on every node):
//
//   "SBX1 <origin node id> <seq> <resolved destination>\n" <MESSAGE frame bytes>
//
// <seq> is the durable store's seq for a user queue message, 0 otherwise. A node ignores the
// envelopes it sent itself (they come back when it subscribes to the same channel).
//
// A topic with history (cluster::redis_history): the Lua script that keeps the message
// publishes it with the position Redis gave it, and every node delivers it, the origin too:
//
//   "SBX2 <origin node id> 0 <EPOCH:OFFSET> <resolved destination>\n" <MESSAGE frame bytes>

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/message.hpp"

namespace cluster {

/// A decoded envelope.
struct envelope {
  std::string origin;       ///< node id of the sender
  std::uint64_t seq = 0;    ///< store seq (user queues), else 0
  broker::message_ptr msg;  ///< rebuilt for its destination (SBX2: with its x-position)
  std::string position;     ///< SBX2: "EPOCH:OFFSET"; empty for SBX1
};

/// The start of an SBX2 envelope up to its position (the script appends position, ' ',
/// destination, '\n', frame). Thread-safe (pure).
std::string history_envelope_head(std::string_view origin);

/// Encodes `m` sent by node `origin` (no spaces or newlines in it). Thread-safe (pure).
std::string encode_envelope(std::string_view origin, const broker::message_ptr& m,
                            std::uint64_t seq);

/// Decodes bytes written by encode_envelope. False for anything else (another version, a
/// destination that does not parse, a frame that is not one MESSAGE). Thread-safe (pure).
bool decode_envelope(std::string_view bytes, envelope& out);

}  // namespace cluster
