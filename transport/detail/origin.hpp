#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace transport::detail {

/// The Origin check against cross-site requests (RFC 6455 §10.2: browsers send Origin, the
/// server decides). The one rule of the WebSocket upgrade, SockJS and the publish API. Allowed
/// when:
///  - `origin` is empty: not a browser (browsers always send it on a WebSocket upgrade);
///  - `allowed` holds "*";
///  - the Origin's host:port equals the request's Host header (same origin, as Spring's
///    default); a missing port is the scheme's default (http 80, https 443);
///  - the Origin equals an entry of `allowed` (e.g. "https://app.example.com"), compared without
///    case and without a trailing '/'; "null" (sandboxed pages, file://) only if listed;
///  - `loopback` is set (server_config::loopback_origins, development mode) and the Origin is a page of this machine on any port:
///    http or https on localhost, 127.0.0.1 or [::1].
/// Pure function; thread-safe.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed, bool loopback = false);

/// The log text of a refused Origin: the Origin and Host (escaped) and the settings that would
/// allow it, e.g. `Origin "http://x:3000", Host "127.0.0.1:15674": allow it with
/// websocket.allowed_origins or --allowed-origin`.
std::string origin_refusal_detail(std::string_view origin, std::string_view host);

}  // namespace transport::detail
