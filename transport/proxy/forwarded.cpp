#include "transport/proxy/forwarded.hpp"

#include <algorithm>
#include <optional>

// RFC 7239 §4: Forwarded = 1#forwarded-element; forwarded-element = [ pair ] *( ";" [ pair ] );
// pair = token "=" value; value = token / quoted-string. §6: node = nodename [ ":" node-port ],
// nodename = IPv4address / "[" IPv6address "]" / "unknown" / obfnode.
// X-Forwarded-For: a comma-separated list of addresses, each proxy appending the one it saw.
// Only the hops appended by proxies we trust are believed: walking from the right, the first
// untrusted hop is the client (anything left of it was written by the client itself).

namespace transport::proxy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return (x | 0x20) == (y | 0x20);
  });
}

/// Splits at `sep` outside double quotes (a quoted value may hold any separator).
std::vector<std::string_view> split_unquoted(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == sep && !quoted) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

/// A node ("192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80", "2001:db8::1")
/// to its address; nullopt for anything else.
std::optional<ip_bytes> node_address(std::string_view node) {
  if (node.starts_with('[')) {
    const auto close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto after = node.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::nullopt;
    return parse_ip(node.substr(1, close - 1));
  }
  const auto colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos)
    return parse_ip(node.substr(0, colon));  // IPv4 with a port
  return parse_ip(node);
}

/// The `for=` value of one forwarded-element, unquoted; empty when absent.
std::string_view for_value(std::string_view element) {
  for (auto pair : split_unquoted(element, ';')) {
    pair = trim(pair);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || !iequals(trim(pair.substr(0, eq)), "for")) continue;
    auto value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);  // node values never need a backslash escape
    return value;
  }
  return {};
}

/// Every hop named by the headers, leftmost first: Forwarded's `for=` when any Forwarded line
/// is present, else X-Forwarded-For's entries.
std::vector<std::string_view> hops_of(const forwarding_headers& h) {
  std::vector<std::string_view> hops;
  if (!h.forwarded.empty()) {
    for (auto line : h.forwarded)
      for (auto element : split_unquoted(line, ',')) hops.push_back(for_value(element));
  } else {
    for (auto line : h.x_forwarded_for)
      for (auto entry : split_unquoted(line, ',')) hops.push_back(trim(entry));
  }
  return hops;
}

}  // namespace

forwarded_client pick_client(const forwarding_headers& headers, std::string_view socket_ip,
                             const cidr_set& trusted) {
  forwarded_client out{std::string(socket_ip), false, {}};
  const auto hops = hops_of(headers);
  if (hops.empty()) return out;
  std::optional<ip_bytes> leftmost;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    const auto ip = node_address(*it);
    if (!ip) {
      out.problem = it->empty() ? "a hop without an address" : "unparsable hop";
      return out;
    }
    leftmost = ip;
    if (!trusted.contains(*ip)) break;
  }
  out.ip = to_string(*leftmost);
  out.found = true;
  return out;
}

}  // namespace transport::proxy
