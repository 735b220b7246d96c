#pragma once

#include <system_error>

namespace stomp {

/// Why bytes could not be parsed as STOMP. One enumerator per rule; malformed bytes and
/// exceeded limits are distinct so the broker can say exactly what was wrong.
enum class error {
  // Malformed input.
  invalid_command = 1,     ///< Command is empty or has bytes other than A-Z.
  unknown_command,         ///< Command is well formed but not a STOMP client or server command.
  header_missing_colon,    ///< A header line has no ':'.
  header_empty_name,       ///< A header line starts with ':'.
  invalid_escape,          ///< `\` followed by a character the version does not define.
  invalid_content_length,  ///< content-length is not a decimal number.
  missing_nul,             ///< Body of content-length bytes is not followed by NUL.
  // Limits.
  command_too_long,        ///< Command line longer than limits::max_command.
  header_line_too_long,    ///< A header line longer than limits::max_header_line.
  too_many_headers,        ///< More distinct headers than limits::max_headers.
  body_too_large,          ///< Body longer than limits::max_body.
  frame_too_large,         ///< Whole frame longer than limits::max_frame.
};

/// The "stomp" error category.
const std::error_category& category() noexcept;

std::error_code make_error_code(error e) noexcept;

/// True for the limit errors (command_too_long .. frame_too_large).
bool is_limit_error(std::error_code ec) noexcept;

}  // namespace stomp

template <>
struct std::is_error_code_enum<stomp::error> : std::true_type {};
