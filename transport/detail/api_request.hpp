#pragma once

// The publish API's request and response bodies, without I/O:
//
//   POST {api_path}/v1/publish
//   Authorization: Bearer <jwt>  |  Basic base64(login:passcode)
//   Idempotency-Key: <any text>            (optional)
//   {"destination": "/user/alice/queue/notifications",
//    "headers": {"content-type": "application/json"},   (optional; string values)
//    "body": "..."}                                       (optional; default empty)
//
//   202 {"message_id": "..."}  |  4xx/5xx {"error": "..."}

#include <optional>
#include <string>
#include <string_view>

#include "broker/broker.hpp"

namespace transport::detail {

/// Parses the JSON body of a publish request. Returns the request, or std::nullopt with a short
/// reason in `error` (not JSON, not an object, unknown field, missing or non-string destination,
/// non-string header value or body). Pure; never throws.
std::optional<broker::publish_request> parse_publish_body(std::string_view json,
                                                          std::string& error);

/// The caller's credentials from an Authorization header value: `Bearer <token>` fills
/// `bearer`, `Basic <base64 login:passcode>` fills login and passcode (schemes are
/// case-insensitive). Anything else, or an undecodable Basic value, gives empty credentials
/// (refused unless the broker runs in development mode). Cookies and query tokens are not
/// read: a browser would send them on a cross-site form POST. Pure.
broker::credentials parse_api_credentials(std::string_view authorization, std::string remote);

/// `{"error": "<message>"}` with JSON escaping. Pure.
std::string api_error_json(std::string_view message);

/// `{"message_id": "<id>"}` with JSON escaping. Pure.
std::string api_accepted_json(std::string_view message_id);

/// True for `application/json` (any case, parameters such as `; charset=utf-8` allowed); false
/// for anything else, an absent Content-Type included (what a cross-site no-cors fetch sends).
/// Pure.
bool is_json_content_type(std::string_view value) noexcept;

/// The HTTP status code for a publish outcome (202, 400, 401, 403, 413, 503). Pure.
unsigned api_status_code(broker::publish_status s) noexcept;

}  // namespace transport::detail
