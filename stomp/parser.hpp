#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "stomp/frame.hpp"
#include "stomp/version.hpp"

namespace stomp {

/// Size limits the parser enforces, each with its own error code. Checked on every path,
/// including when a frame arrives split across many feeds.
struct limits {
  std::size_t max_command = 32;             ///< bytes in the command line, EOL excluded
  std::size_t max_header_line = 8 * 1024;   ///< bytes in one header line, EOL excluded
  std::size_t max_headers = 64;             ///< distinct header names per frame
  std::size_t max_body = 4 * 1024 * 1024;   ///< body bytes
  std::size_t max_frame = 4 * 1024 * 1024 + 64 * 1024;  ///< every byte of the frame
};

/// Limits before the session is authenticated: a peer that has not logged in may not make us
/// buffer much (64 KiB frames).
limits pre_connect_limits() noexcept;

/// What one call to parser::feed produced.
enum class parse_status {
  frame,      ///< `out` holds a whole frame; call feed again with the rest of the input.
  need_more,  ///< all input was consumed (buffered); feed more bytes when they arrive.
  error,      ///< input is not STOMP; parser::error() says why. The parser stays failed.
};

/// Incremental STOMP frame parser. Feed it bytes as they arrive; it yields whole frames and
/// resumes at any split point. Heart-beat EOLs between frames are skipped.
/// Not thread-safe: one parser per connection, used on that connection's strand.
class parser {
 public:
  explicit parser(limits l = {}) : limits_(l) {}

  /// Parses from the front of `input`, advancing it past the bytes consumed. Returns
  /// parse_status::frame with `out` filled (overwritten) as soon as one frame is whole, so the
  /// caller can change version or limits between frames; need_more once `input` is empty.
  parse_status feed(std::string_view& input, frame& out);

  /// The version whose escaping rules apply to the frames that follow (1.0 until CONNECTED).
  void set_version(version v) noexcept { version_ = v; }
  version current_version() const noexcept { return version_; }

  /// Limits for the frames that follow (the frame in progress is checked against them too).
  void set_limits(const limits& l) noexcept { limits_ = l; }
  const limits& current_limits() const noexcept { return limits_; }

  /// Why parsing failed, after parse_status::error.
  std::error_code error() const noexcept { return error_; }

  /// Bytes of the frame in progress held in the parser's buffer.
  std::size_t buffered() const noexcept { return buffer_.size(); }

  /// Forgets any partial frame and error; keeps version and limits.
  void reset();

 private:
  parse_status fail(stomp::error e);
  parse_status parse_buffered(frame& out);

  limits limits_;
  version version_ = version::v1_0;
  std::error_code error_;
  std::string buffer_;  // bytes of a frame that straddles feeds
};

/// Whether the given command's headers are escaped in `v` (never for CONNECT/CONNECTED, never
/// in 1.0).
bool escapes_headers(std::string_view command, version v) noexcept;

/// Unescapes a header name or value per `v`. False on an undefined escape sequence.
bool unescape(std::string_view in, version v, std::string& out);

}  // namespace stomp
