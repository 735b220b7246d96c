#include "cluster/redis/options.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>

namespace cluster::redis {
namespace {

bool parse_int(std::string_view text, int min, int max, int& out) {
  int v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return false;
  out = v;
  return true;
}

// "host", "host:port", "[v6]", "[v6]:port".
bool parse_host_port(std::string_view hp, int default_port, address& out) {
  std::string_view host = hp;
  std::string_view port;
  bool has_port = false;
  if (hp.starts_with('[')) {
    const auto close = hp.find(']');
    if (close == std::string_view::npos) return false;
    host = hp.substr(1, close - 1);
    const auto rest = hp.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else if (const auto colon = hp.rfind(':'); colon != std::string_view::npos) {
    host = hp.substr(0, colon);
    port = hp.substr(colon + 1);
    has_port = true;
  }
  if (host.empty() || host.find_first_of("[]/@, ") != std::string_view::npos) return false;
  out.host = std::string(host);
  out.port = default_port;
  return !has_port || parse_int(port, 1, 65535, out.port);
}

// "[user]:password" or "password" before the '@'.
void parse_userinfo(std::string_view info, options& out) {
  const auto colon = info.find(':');
  if (colon == std::string_view::npos) {
    out.password = std::string(info);
    return;
  }
  out.user = std::string(info.substr(0, colon));
  out.password = std::string(info.substr(colon + 1));
}

struct scheme {
  std::string_view prefix;
  bool tls;
  bool sentinel;
};
constexpr scheme schemes[] = {{"redis://", false, false},
                              {"rediss://", true, false},
                              {"redis-sentinel://", false, true},
                              {"rediss-sentinel://", true, true}};

std::error_code bad(std::string& why, std::string_view reason) {
  why = std::string(reason);
  return std::make_error_code(std::errc::invalid_argument);
}

}  // namespace

std::error_code parse_url(std::string_view url, options& out, std::string& why) {
  const scheme* s = nullptr;
  for (const auto& candidate : schemes)
    if (url.starts_with(candidate.prefix)) s = &candidate;
  if (s == nullptr) return bad(why, "expected redis://, rediss://, redis-sentinel:// or rediss-sentinel://");
  url.remove_prefix(s->prefix.size());
  options o;
  o.tls = s->tls;
  o.ca_file = out.ca_file;
  o.cert_file = out.cert_file;
  o.key_file = out.key_file;
  o.server_name = out.server_name;
  std::string_view path;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    path = url.substr(slash + 1);
    url = url.substr(0, slash);
  }
  // The password may hold '@' and ':': the last '@' ends it.
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    parse_userinfo(url.substr(0, at), o);
    url.remove_prefix(at + 1);
  }
  if (s->sentinel) {
    const auto slash = path.find('/');
    o.sentinel_master = std::string(path.substr(0, slash));
    if (o.sentinel_master.empty()) return bad(why, "a Sentinel URL names the master: /MASTERNAME");
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (!path.empty() && !parse_int(path, 0, 65535, o.db)) return bad(why, "the database after '/' must be a number");
  o.addresses.clear();
  while (true) {
    const auto comma = s->sentinel ? url.find(',') : std::string_view::npos;
    address a;
    if (!parse_host_port(url.substr(0, comma), s->sentinel ? 26379 : 6379, a)) return bad(why, "bad host or port");
    o.addresses.push_back(std::move(a));
    if (comma == std::string_view::npos) break;
    url.remove_prefix(comma + 1);
  }
  out = std::move(o);
  return {};
}

bool read_password_file(const std::string& path, std::string& out, std::string& why) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    why = "cannot read the Redis password file '" + path + "'";
    return false;
  }
  if (line.ends_with('\r')) line.pop_back();
  out = std::move(line);
  return true;
}

bool read_password_env(const std::string& name, std::string& out, std::string& why) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    why = "environment variable '" + name + "' (Redis password) is not set";
    return false;
  }
  out = value;
  return true;
}

std::string printable(const address& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

std::string printable(const options& o) {
  std::string out = o.tls ? "rediss" : "redis";
  out += o.sentinel_master.empty() ? "://" : "-sentinel://";
  if (!o.user.empty() || !o.password.empty()) out += o.user + (o.password.empty() ? "@" : ":***@");
  for (std::size_t i = 0; i < o.addresses.size(); ++i) {
    if (i > 0) out += ',';
    out += printable(o.addresses[i]);
  }
  if (!o.sentinel_master.empty()) out += "/" + o.sentinel_master;
  out += "/" + std::to_string(o.db);
  return out;
}

}  // namespace cluster::redis
