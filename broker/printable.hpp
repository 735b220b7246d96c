#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace broker {

/// A short, printable rendering of peer bytes for logs [NATS protoSnippet]: line feeds, quotes,
/// backslashes and other control or non-ASCII bytes escaped (`\n`, `\"`, `\x1b`), cut after
/// `max` bytes with "...". A peer can then never start a log line of its own, nor drive the
/// terminal that shows the log.
/// The one escaper for every peer-supplied string in a log line (logins, destinations, header
/// values, Origins, Hosts, request targets, error text holding peer bytes), in every layer that
/// logs: broker/ (its store library too: header-only, so it needs no link to the broker),
/// transport/, cluster/ and app/ include this public header. Pure; thread-safe.
inline std::string printable(std::string_view bytes, std::size_t max = 64) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}


}  // namespace broker
