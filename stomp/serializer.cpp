#include "stomp/serializer.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "stomp/parser.hpp"

namespace stomp {
namespace {

constexpr std::string_view content_length = "content-length";

// Writes "name:value" and its EOL. Where CR is not escaped (1.0, 1.1, CONNECT/CONNECTED) a line
// ending in CR gets a CRLF EOL, so the parser (which takes CR LF as the EOL) keeps that CR: see
// deviation 1 in parser.cpp.
void write_header(std::string_view name, std::string_view value, version v, bool escaped,
                  std::string& out) {
  if (escaped) {
    escape(name, v, out);
    out += ':';
    escape(value, v, out);
  } else {
    out += name;
    out += ':';
    out += value;
  }
  if (out.back() == '\r') out += '\r';  // out ends in ':' at least, so back() is safe
  out += '\n';
}

// Without escaping a header line cannot hold a LF, nor a ':' in its name (the first ':' ends the
// name). Such a header reaches a 1.0 session when a 1.1/1.2 client sent it escaped.
bool writable_unescaped(const header& h) noexcept {
  return h.name.find_first_of("\n:") == std::string::npos &&
         h.value.find('\n') == std::string::npos;
}

// Everything after the command line: headers (content-length rewritten), blank line, body, NUL.
void write_rest(const frame& f, version v, bool escaped, std::string& out) {
  for (const header& h : f.headers) {
    if (h.name == content_length) continue;
    if (!escaped && !writable_unescaped(h)) continue;
    write_header(h.name, h.value, v, escaped, out);
  }
  if (!f.body.empty()) {
    std::array<char, 24> digits{};
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), f.body.size());
    (void)ec;  // cannot fail: 24 chars hold any size_t
    out += content_length;
    out += ':';
    out.append(digits.data(), end);
    out += '\n';
  }
  out += '\n';
  out += f.body;
  out += '\0';
}

std::size_t size_hint(const frame& f) {
  std::size_t n = f.command.size() + f.body.size() + 40;
  for (const header& h : f.headers) n += h.name.size() + h.value.size() + 2;
  return n;
}

// Length of the valid UTF-8 sequence starting at s[i] (i < s.size()), 0 if invalid. Rejects
// overlong forms, surrogates and code points above U+10FFFF (RFC 3629).
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const auto cont = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  const std::uint8_t b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const std::uint8_t b1 = byte(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b == 0xED && b1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const std::uint8_t b1 = byte(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// What escape() writes for c, or nothing when c stands for itself.
std::string_view escape_sequence(char c, version v) noexcept {
  switch (c) {
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case ':': return "\\c";
    case '\r': return v >= version::v1_2 ? "\\r" : "";
    default: return {};
  }
}

// True if none of the 8 bytes at p has its high bit set.
bool ascii8(const char* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080ULL) == 0;
}

}  // namespace

void escape(std::string_view in, version v, std::string& out) {
  if (v == version::v1_0) {
    out += in;
    return;
  }
  // Copies the runs between special characters whole: most values have none.
  std::size_t copied = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string_view replacement = escape_sequence(in[i], v);
    if (replacement.empty()) continue;
    out.append(in.data() + copied, i - copied);
    out += replacement;
    copied = i + 1;
  }
  out.append(in.data() + copied, in.size() - copied);
}

void serialize(const frame& f, version v, std::string& out) {
  out.reserve(out.size() + size_hint(f));
  out += f.command;
  out += '\n';
  write_rest(f, v, escapes_headers(f.command, v), out);
}

std::string serialize(const frame& f, version v) {
  std::string out;
  serialize(f, v, out);
  return out;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (i + 8 <= bytes.size() && ascii8(bytes.data() + i)) {  // ASCII fast path
      i += 8;
      continue;
    }
    if (static_cast<std::uint8_t>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

struct shared_message::cache {
  std::array<std::once_flag, 3> once;
  std::array<std::string, 3> tail;
  std::array<bool, 3> utf8{};
};

shared_message::shared_message(frame common)
    : common_(std::move(common)), cache_(std::make_unique<cache>()) {}

shared_message::~shared_message() = default;

const std::string& shared_message::tail(version v) const {
  const auto i = static_cast<std::size_t>(v);
  // call_once: concurrent deliveries on several strands may ask for the same version at once.
  std::call_once(cache_->once[i], [&] {
    std::string& t = cache_->tail[i];
    t.reserve(size_hint(common_));
    write_rest(common_, v, escapes_headers("MESSAGE", v), t);
    cache_->utf8[i] = is_valid_utf8(t);
  });
  return cache_->tail[i];
}

bool shared_message::tail_is_utf8(version v) const {
  tail(v);
  return cache_->utf8[static_cast<std::size_t>(v)];
}

void message_head(std::string_view subscription, std::string_view ack, version v,
                  std::string& out) {
  const bool escaped = escapes_headers("MESSAGE", v);
  out += "MESSAGE\n";
  write_header("subscription", subscription, v, escaped, out);
  if (!ack.empty()) write_header("ack", ack, v, escaped, out);
}

}  // namespace stomp
