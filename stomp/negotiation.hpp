#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "stomp/version.hpp"

namespace stomp {

/// The highest version both sides speak, from a CONNECT's `accept-version` value (a comma list in
/// any order). An absent header means 1.0 (pass std::nullopt). std::nullopt when none is shared.
std::optional<version> negotiate_version(std::optional<std::string_view> accept_version);

/// A heart-beat header pair: cx (can send every cx ms), cy (wants to receive every cy ms).
struct heart_beat {
  std::chrono::milliseconds send{0};
  std::chrono::milliseconds receive{0};
  friend bool operator==(const heart_beat&, const heart_beat&) = default;
};

/// Parses "cx,cy". std::nullopt when malformed. An absent header means 0,0.
std::optional<heart_beat> parse_heart_beat(std::string_view value);

/// The header value "cx,cy".
std::string format_heart_beat(heart_beat hb);

/// The intervals that apply on one side after negotiation (STOMP 1.2 §Heart-beating):
/// `send` = 0 if either mine.send or theirs.receive is 0, else max of the two; `receive` = 0 if
/// either mine.receive or theirs.send is 0, else max of the two.
heart_beat negotiate_heart_beat(heart_beat mine, heart_beat theirs) noexcept;

/// The server's side of the negotiation for one client, so that the client gets the intervals
/// it asks for down to `floor` (RabbitMQ gives what the client asks): per direction, when the
/// client asks (theirs.receive for what we send, theirs.send for what we expect) we offer
/// max(min(floor, configured), asked); when it asks 0, or `configured` is 0 (disabled), we
/// offer `configured`. negotiate_heart_beat(result, theirs) then lands on max(floor, asked), or
/// on `configured` itself when the operator configured an interval below the floor.
heart_beat offer_heart_beat(heart_beat configured, heart_beat theirs,
                            std::chrono::milliseconds floor) noexcept;

}  // namespace stomp
