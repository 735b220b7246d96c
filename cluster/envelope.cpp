#include "cluster/envelope.hpp"

#include <charconv>

#include "broker/destination.hpp"
#include "broker/history.hpp"

namespace cluster {
namespace {

constexpr std::string_view magic = "SBX1 ";
constexpr std::string_view magic_history = "SBX2 ";

// Splits off the text up to the next space; false when there is none.
bool take_word(std::string_view& line, std::string_view& word) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return false;
  word = line.substr(0, space);
  line.remove_prefix(space + 1);
  return true;
}

}  // namespace

std::string encode_envelope(std::string_view origin, const broker::message_ptr& m,
                            std::uint64_t seq) {
  std::string out;
  const std::string frame = broker::stored_form(m);
  const std::string dest = m->target.resolved();
  out.reserve(magic.size() + origin.size() + dest.size() + frame.size() + 24);
  out.append(magic).append(origin).append(" ").append(std::to_string(seq)).append(" ");
  out.append(dest).append("\n").append(frame);
  return out;
}

std::string history_envelope_head(std::string_view origin) {
  std::string out(magic_history);
  out.append(origin).append(" 0 ");
  return out;
}

bool decode_envelope(std::string_view bytes, envelope& out) {
  const bool history = bytes.starts_with(magic_history);
  if (!history && !bytes.starts_with(magic)) return false;
  bytes.remove_prefix(magic.size());
  const auto newline = bytes.find('\n');
  if (newline == std::string_view::npos) return false;
  std::string_view line = bytes.substr(0, newline);
  const std::string_view frame = bytes.substr(newline + 1);
  std::string_view origin, seq_text;
  std::string_view position;
  if (!take_word(line, origin) || !take_word(line, seq_text) ||
      (history && !take_word(line, position)) || line.empty()) {
    return false;
  }
  std::uint64_t seq = 0;
  const char* end = seq_text.data() + seq_text.size();
  if (auto [ptr, ec] = std::from_chars(seq_text.data(), end, seq); ec != std::errc{} || ptr != end) {
    return false;
  }
  broker::destination d;
  if (broker::parse_destination(line, d) || d.wildcard) return false;
  broker::message_ptr m;
  if (!broker::restore_message(frame, std::move(d), m)) return false;
  if (history) {
    broker::history_position p;
    if (!broker::parse_position(position, p)) return false;
    m = broker::with_position(m, position);
  }
  out.position = std::string(position);
  out.origin = std::string(origin);
  out.seq = seq;
  out.msg = std::move(m);
  return true;
}

}  // namespace cluster
