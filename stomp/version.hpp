#pragma once

#include <string_view>

namespace stomp {

/// A STOMP protocol version. Ordered: a later version compares greater.
enum class version { v1_0, v1_1, v1_2 };

/// "1.0", "1.1" or "1.2".
std::string_view to_string(version v) noexcept;

}  // namespace stomp
