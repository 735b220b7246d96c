#include "stomp/negotiation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace stomp {
namespace {

std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<version> parse_version(std::string_view s) noexcept {
  if (s == "1.0") return version::v1_0;
  if (s == "1.1") return version::v1_1;
  if (s == "1.2") return version::v1_2;
  return std::nullopt;
}

// A non-negative decimal that fits in 32 bits (heart-beats are milliseconds).
std::optional<std::uint32_t> parse_millis(std::string_view s) noexcept {
  s = trim_spaces(s);
  if (s.empty()) return std::nullopt;
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<version> negotiate_version(std::optional<std::string_view> accept_version) {
  if (!accept_version) return version::v1_0;  // STOMP 1.2 §Protocol Negotiation
  std::optional<version> best;
  std::string_view rest = *accept_version;
  while (true) {
    const auto comma = rest.find(',');
    // Unknown entries (e.g. "2.0") are ignored rather than rejected: a newer client still
    // gets the best version we share.
    if (auto v = parse_version(trim_spaces(rest.substr(0, comma)))) {
      if (!best || *v > *best) best = v;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return best;
}

std::optional<heart_beat> parse_heart_beat(std::string_view value) {
  const auto comma = value.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto cx = parse_millis(value.substr(0, comma));
  auto cy = parse_millis(value.substr(comma + 1));
  if (!cx || !cy) return std::nullopt;
  return heart_beat{std::chrono::milliseconds(*cx), std::chrono::milliseconds(*cy)};
}

std::string format_heart_beat(heart_beat hb) {
  return std::to_string(hb.send.count()) + ',' + std::to_string(hb.receive.count());
}

heart_beat negotiate_heart_beat(heart_beat mine, heart_beat theirs) noexcept {
  using std::chrono::milliseconds;
  const milliseconds zero{0};
  heart_beat out;
  out.send =
      (mine.send == zero || theirs.receive == zero) ? zero : std::max(mine.send, theirs.receive);
  out.receive =
      (mine.receive == zero || theirs.send == zero) ? zero : std::max(mine.receive, theirs.send);
  return out;
}

namespace {

std::chrono::milliseconds offer_one(std::chrono::milliseconds configured,
                                    std::chrono::milliseconds asked,
                                    std::chrono::milliseconds floor) noexcept {
  if (configured.count() == 0 || asked.count() == 0) return configured;
  return std::max(std::min(floor, configured), asked);
}

}  // namespace

heart_beat offer_heart_beat(heart_beat configured, heart_beat theirs,
                            std::chrono::milliseconds floor) noexcept {
  return heart_beat{offer_one(configured.send, theirs.receive, floor),
                    offer_one(configured.receive, theirs.send, floor)};
}

}  // namespace stomp
