#pragma once

#include <string_view>
#include <vector>

namespace transport::detail {

/// The STOMP subprotocol to answer with, in server order v12.stomp > v11.stomp > v10.stomp >
/// stomp, from every Sec-WebSocket-Protocol value the client sent (one per header line, each a
/// comma list with optional spaces). Empty when none is offered or none matches: the upgrade
/// then proceeds without one, as RabbitMQ and Spring do. Tokens compare case-sensitively
/// (RFC 6455 §4.1: the server echoes one of the client's values exactly). Pure; thread-safe.
std::string_view select_subprotocol(const std::vector<std::string_view>& offered) noexcept;

/// Splits one comma-separated header value into trimmed, non-empty tokens. Pure.
std::vector<std::string_view> split_tokens(std::string_view value);

}  // namespace transport::detail
