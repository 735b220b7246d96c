#include "cluster/redis_url.hpp"

#include <charconv>

namespace cluster {
namespace {

bool parse_int(std::string_view text, int min, int max, int& out) {
  int v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

std::error_code parse_redis_url(std::string_view url, redis_endpoint& out) {
  const auto bad = std::make_error_code(std::errc::invalid_argument);
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) return bad;
  url.remove_prefix(scheme.size());
  redis_endpoint ep;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    if (!parse_int(url.substr(slash + 1), 0, 65535, ep.db)) return bad;
    url = url.substr(0, slash);
  }
  if (url.find('@') != std::string_view::npos) return bad;  // credentials: not supported
  std::string_view host = url;
  std::string_view port;
  if (url.starts_with('[')) {  // [v6]:port
    const auto close = url.find(']');
    if (close == std::string_view::npos) return bad;
    host = url.substr(1, close - 1);
    const auto rest = url.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return bad;
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return bad;
  } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
    if (port.empty()) return bad;
  }
  if (host.empty()) return bad;
  if (!port.empty() && !parse_int(port, 1, 65535, ep.port)) return bad;
  ep.host = std::string(host);
  out = std::move(ep);
  return {};
}

}  // namespace cluster
