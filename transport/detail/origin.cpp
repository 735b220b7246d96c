#include "transport/detail/origin.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "broker/printable.hpp"

namespace transport::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim_slash(std::string_view s) noexcept {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

/// host and port of "host", "host:port", "[v6]" or "[v6]:port"; port empty when absent.
void split_authority(std::string_view a, std::string_view& host, std::string_view& port) {
  port = {};
  const auto colon = a.rfind(':');
  const auto bracket = a.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  } else {
    host = a;
  }
}

/// Same origin: the Origin's authority equals Host (ports defaulted by the Origin's scheme).
bool same_host(std::string_view origin, std::string_view host_header) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos || host_header.empty()) return false;
  const std::string_view scheme = origin.substr(0, sep);
  const std::string_view authority = trim_slash(origin.substr(sep + 3));
  if (authority.find('/') != std::string_view::npos) return false;  // origins have no path
  const std::string_view default_port =
      iequals(scheme, "https") || iequals(scheme, "wss") ? "443" : "80";
  std::string_view oh, op, hh, hp;
  split_authority(authority, oh, op);
  split_authority(host_header, hh, hp);
  if (op.empty()) op = default_port;
  if (hp.empty()) hp = default_port;
  return !oh.empty() && iequals(oh, hh) && op == hp;
}

/// A page of this machine: http(s)://localhost, 127.0.0.1 or [::1], any port, no path. What a
/// developer's dev server (http://localhost:3000) serves.
bool loopback_page(std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string_view scheme = origin.substr(0, sep);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
  const std::string_view authority = trim_slash(origin.substr(sep + 3));
  if (authority.find('/') != std::string_view::npos) return false;
  std::string_view host, port;
  split_authority(authority, host, port);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
}

}  // namespace

std::string origin_refusal_detail(std::string_view origin, std::string_view host) {
  return fmt::format(
      "Origin \"{}\", Host \"{}\": allow it with websocket.allowed_origins or --allowed-origin",
      broker::printable(origin, 200), broker::printable(host, 200));
}

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed, bool loopback) {
  if (origin.empty()) return true;
  if (loopback && loopback_page(origin)) return true;
  for (const auto& entry : allowed) {
    if (entry == "*") return true;
  }
  if (same_host(origin, host)) return true;
  const std::string_view o = trim_slash(origin);
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return iequals(trim_slash(entry), o); });
}

}  // namespace transport::detail
