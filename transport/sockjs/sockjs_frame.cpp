#include "transport/sockjs/sockjs_frame.hpp"

#include <fmt/format.h>

#include "transport/detail/ws_connection.hpp"

namespace transport::detail {

namespace {

constexpr char32_t replacement = 0xFFFD;

/// Decodes the UTF-8 sequence at s[i]; sets `len` to the bytes used. Invalid or overlong
/// sequences, surrogates and values above U+10FFFF give U+FFFD for one byte.
char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& len) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    return replacement;
  }
  if (i + n >= s.size()) return replacement;
  for (std::size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return replacement;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return replacement;
  len = n + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_u_escape(std::string& out, char32_t unit) {
  fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(unit));
}

// The protocol's escapable_by_server set (controls handled by the caller).
bool sockjs_escapes(char32_t cp) noexcept {
  return (cp >= 0x200C && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
         (cp >= 0x2060 && cp <= 0x206F) || (cp >= 0xFFF0 && cp <= 0xFFFF);
}

void append_escaped_char(std::string& out, char32_t cp) {
  switch (cp) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    default: break;
  }
  if (cp < 0x20 || sockjs_escapes(cp)) return append_u_escape(out, cp);
  if (cp >= 0x10000) {  // as a UTF-16 surrogate pair, both halves escaped
    const char32_t v = cp - 0x10000;
    append_u_escape(out, 0xD800 + (v >> 10));
    append_u_escape(out, 0xDC00 + (v & 0x3FF));
    return;
  }
  append_utf8(out, cp);
}

void append_escaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    // Fast path: printable ASCII other than the two JSON specials is copied as is.
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = 1;
    append_escaped_char(out, decode_utf8(s, i, len));
    i += len;
  }
}

/// A small cursor over the client's JSON: only what SockJS clients send (strings, arrays).
class json_reader {
 public:
  explicit json_reader(std::string_view s) : s_(s) {}

  void skip_space() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool at_end() const noexcept { return i_ == s_.size(); }
  bool eat(char c) noexcept {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }

  /// A JSON string at the cursor (after optional space), appended as UTF-8.
  bool read_string(std::string& out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;  // raw controls are not JSON
      if (c != '\\') {
        out += c;  // UTF-8 passes through; the STOMP parser judges the bytes
        continue;
      }
      if (!read_escape(out)) return false;
    }
    return false;
  }

 private:
  bool read_hex4(char32_t& unit) {
    if (s_.size() - i_ < 4) return false;
    unit = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      unit <<= 4;
      if (h >= '0' && h <= '9') unit |= static_cast<char32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') unit |= static_cast<char32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') unit |= static_cast<char32_t>(h - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool read_escape(std::string& out) {
    if (i_ >= s_.size()) return false;
    switch (s_[i_++]) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': return read_unicode(out);
      default: return false;
    }
  }

  bool read_unicode(std::string& out) {
    char32_t unit = 0;
    if (!read_hex4(unit)) return false;
    if (unit >= 0xD800 && unit <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
      const auto mark = i_;
      i_ += 2;
      char32_t low = 0;
      if (!read_hex4(low)) return false;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
        return true;
      }
      i_ = mark;  // not a pair: the high half alone is replaced, the next escape read anew
    }
    append_utf8(out, unit >= 0xD800 && unit <= 0xDFFF ? replacement : unit);
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

void append_sockjs_string(std::string& out, std::string_view utf8) {
  out += '"';
  append_escaped(out, utf8);
  out += '"';
}

void append_sockjs_string(std::string& out, const broker::outgoing& frame) {
  if (!frame.tail) return append_sockjs_string(out, frame.head);
  // The head ends at a header line: a character never spans the two parts, unless the head
  // ends in a non-ASCII byte, and then they are joined first.
  if (!frame.head.empty() && static_cast<unsigned char>(frame.head.back()) >= 0x80)
    return append_sockjs_string(out, frame.head + *frame.tail);
  out += '"';
  append_escaped(out, frame.head);
  append_escaped(out, *frame.tail);
  out += '"';
}

std::string sockjs_message_frame(const broker::outgoing& frame) {
  std::string out;
  out.reserve(frame.size() + 8);
  out += "a[";
  append_sockjs_string(out, frame);
  out += ']';
  return out;
}

std::string sockjs_close_frame(int code, std::string_view reason) {
  std::string out = fmt::format("c[{},", code);
  append_sockjs_string(out, reason);
  out += ']';
  return out;
}

std::string sockjs_close_frame(broker::close_reason why) {
  if (why == broker::close_reason::normal) return sockjs_close_frame(3000, "Go away!");
  return sockjs_close_frame(close_code(why), broker::to_string(why));
}

bool parse_sockjs_messages(std::string_view json, std::vector<std::string>& out) {
  json_reader in(json);
  in.skip_space();
  if (!in.eat('[')) {
    out.emplace_back();
    if (!in.read_string(out.back())) return false;
  } else if (!in.eat(']')) {
    do {
      out.emplace_back();
      if (!in.read_string(out.back())) return false;
    } while (in.eat(','));
    if (!in.eat(']')) return false;
  }
  in.skip_space();
  return in.at_end();
}

std::string sockjs_info_json(bool websocket, bool cookie_needed, std::uint32_t entropy) {
  return fmt::format(R"({{"websocket":{},"cookie_needed":{},"origins":["*:*"],"entropy":{}}})",
                     websocket, cookie_needed, entropy);
}

namespace {

sockjs_route route_of(sockjs_route::kind k) noexcept {
  sockjs_route r;
  r.what = k;
  return r;
}

}  // namespace

sockjs_route parse_sockjs_route(std::string_view path, std::string_view prefix) noexcept {
  using kind = sockjs_route::kind;
  if (path.substr(0, prefix.size()) != prefix) return {};
  auto rest = path.substr(prefix.size());
  if (rest.empty() || rest == "/") return route_of(kind::welcome);
  if (rest.front() != '/') return {};  // "/sockjsfoo" is not ours
  rest.remove_prefix(1);
  if (rest == "info") return route_of(kind::info);
  if (rest == "websocket") return route_of(kind::raw_websocket);
  // Exactly three non-empty, dot-free segments (dots would allow "../" style tricks).
  std::string_view parts[3];
  for (std::size_t k = 0; k < 3; ++k) {
    const auto slash = rest.find('/');
    if ((slash == std::string_view::npos) != (k == 2)) return route_of(kind::not_found);
    parts[k] = rest.substr(0, slash);
    if (parts[k].empty() || parts[k].find('.') != std::string_view::npos) return route_of(kind::not_found);
    if (k < 2) rest.remove_prefix(slash + 1);
  }
  return {kind::session, parts[0], parts[1], parts[2]};
}

}  // namespace transport::detail
