#include "transport/detail/bearer.hpp"

#include <cctype>

namespace transport::detail {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
std::string_view from_authorization(std::string_view value) noexcept {
  value = trim(value);
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme))
    return {};
  if (value[scheme.size()] != ' ') return {};
  return trim(value.substr(scheme.size()));
}

// Walks "a=1&b=2" (query) or "a=1; b=2" (cookie) for `name`.
std::string_view find_pair(std::string_view list, char separator, std::string_view name) noexcept {
  while (!list.empty()) {
    auto end = list.find(separator);
    auto pair = trim(list.substr(0, end));
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return {};
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view target_path(std::string_view target) noexcept {
  return target.substr(0, target.find('?'));
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string_view cookie_value(const std::vector<std::string_view>& headers,
                              std::string_view name) noexcept {
  if (name.empty()) return {};
  for (auto header : headers) {
    if (auto value = find_pair(header, ';', name); !value.empty()) return value;
  }
  return {};
}

std::string bearer_token(const token_sources& in) {
  if (auto token = from_authorization(in.authorization); !token.empty()) return std::string(token);
  if (auto q = in.target.find('?'); q != std::string_view::npos) {
    auto query = in.target.substr(q + 1);
    query = query.substr(0, query.find('#'));
    if (auto token = find_pair(query, '&', "access_token"); !token.empty())
      return percent_decode(token);
  }
  return std::string(cookie_value(in.cookies, in.cookie_name));
}

}  // namespace transport::detail
