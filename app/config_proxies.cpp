#include "app/config_proxies.hpp"

#include <string>

#include "transport/proxy/cidr_set.hpp"

namespace app::detail {

namespace {

void read_flag(const toml::table& root, const char* path, bool& out) {
  const auto node = root.at_path(path);
  if (!node) return;
  const auto* v = node.as_boolean();  // value<bool>() would take 1 for true
  if (!v) throw config_error(std::string(path) + ": expected true or false");
  out = v->get();
}

}  // namespace

void read_proxies(const toml::table& root, settings& out) {
  read_flag(root, "websocket.proxy_protocol", out.server.ws_proxy_protocol);
  read_flag(root, "tcp.proxy_protocol", out.server.tcp_proxy_protocol);
  const auto node = root.at_path("proxies.trusted");
  if (!node) return;
  const auto* list = node.as_array();
  if (!list) throw config_error("proxies.trusted: expected a list of addresses and CIDR ranges");
  std::vector<std::string> entries;
  for (const auto& item : *list) {
    const auto v = item.value<std::string>();
    if (!v) throw config_error("proxies.trusted: expected a list of addresses and CIDR ranges");
    entries.push_back(*v);
  }
  std::string bad;
  if (!transport::proxy::cidr_set::parse(entries, &bad)) {
    throw config_error("proxies.trusted: '" + bad +
                       "' is neither an IP address nor a CIDR range (e.g. 10.0.0.0/8, fd00::/8)");
  }
  out.server.trusted_proxies = std::move(entries);
}

}  // namespace app::detail
