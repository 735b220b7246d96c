#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace transport::detail {

/// The WebSocket Origin check against cross-site WebSocket hijacking (RFC 6455 §10.2: browsers
/// send Origin, the server decides). Used by the WebSocket upgrade and by SockJS. Allowed when:
///  - `origin` is empty: not a browser (browsers always send it on a WebSocket upgrade);
///  - `allowed` holds "*";
///  - the Origin's host:port equals the request's Host header (same origin, as Spring's
///    default); a missing port is the scheme's default (http 80, https 443);
///  - the Origin equals an entry of `allowed` (e.g. "https://app.example.com"), compared without
///    case and without a trailing '/'; "null" (sandboxed pages, file://) only if listed.
/// Pure function; thread-safe.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

}  // namespace transport::detail
