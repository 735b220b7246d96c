#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace transport::detail {

/// What the WebSocket handshake may carry as a bearer token.
struct token_sources {
  std::string_view authorization;        ///< the Authorization header value, if any
  std::string_view target;               ///< request target, e.g. "/ws?access_token=x"
  std::vector<std::string_view> cookies; ///< every Cookie header value
  std::string_view cookie_name;          ///< cookie holding the token
};

/// The bearer token, first found of: `Authorization: Bearer x` (scheme case-insensitive),
/// the `access_token` query parameter (percent-decoded), the cookie called cookie_name.
/// Empty when none. Pure; thread-safe.
std::string bearer_token(const token_sources& in);

/// The value of the cookie called `name` in the first Cookie header (of `headers`, every Cookie
/// header value) holding one; empty when none. Pure.
std::string_view cookie_value(const std::vector<std::string_view>& headers,
                              std::string_view name) noexcept;

/// The path part of a request target ("/ws?x=1" → "/ws"). Pure.
std::string_view target_path(std::string_view target) noexcept;

/// Decodes %XX escapes and '+' (as a space) of a query value; bad escapes are kept as is. Pure.
std::string percent_decode(std::string_view in);

}  // namespace transport::detail
