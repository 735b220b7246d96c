#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "stomp/error.hpp"
#include "stomp/frame.hpp"
#include "stomp/version.hpp"

namespace stomp {

/// Size limits the parser enforces, each with its own error code. Checked on every path,
/// including when a frame arrives split across many feeds.
struct limits {
  std::size_t max_command = 32;                         ///< bytes in the command line, EOL excluded
  std::size_t max_header_line = 8 * 1024;               ///< bytes in one header line, EOL excluded
  std::size_t max_headers = 64;                         ///< distinct header names per frame
  std::size_t max_body = 4 * 1024 * 1024;               ///< body bytes
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

  /// Bytes of the frame in progress held by the parser (parsed lines, body so far and any
  /// partial line). 0 between frames.
  std::size_t buffered() const noexcept {
    return head_bytes_ + buffer_.size() + (phase_ == phase::body ? frame_.body.size() : 0);
  }

  /// Holds nothing of a frame and has not failed: a new parser with the same version and
  /// limits would go on exactly as this one (so an idle connection need not keep one).
  bool idle() const noexcept { return phase_ == phase::command && buffer_.empty() && !error_; }

  /// Forgets any partial frame and error; keeps version and limits.
  void reset();

 private:
  enum class phase : unsigned char { command, headers, body };
  enum class line_status : unsigned char { line, more, failed };
  enum class step : unsigned char { next, done, failed };

  step reject(stomp::error e) noexcept;
  line_status take_line(std::string_view& input, std::size_t max, stomp::error too_long,
                        std::string_view& line);
  step parse_command(std::string_view& input);
  step parse_headers(std::string_view& input);
  step parse_header_line(std::string_view line);
  bool seen_before(std::string_view name, std::size_t index);
  void fill_names(std::size_t count);
  void grow_names();
  step start_body();
  step parse_body(std::string_view& input);
  step parse_body_to_nul(std::string_view& input);
  void finish(frame& out);

  limits limits_;
  version version_ = version::v1_0;
  std::error_code error_;
  std::string buffer_;  // bytes of a command/header line that straddles feeds (never any '\n')
  // State of the frame in progress, so a feed resumes where the last one stopped.
  phase phase_ = phase::command;
  bool escaped_ = false;               // whether this frame's headers are escaped
  bool has_length_ = false;            // a content-length header was seen
  std::size_t content_length_ = 0;     // its value
  std::size_t head_bytes_ = 0;         // bytes of the complete command and header lines
  std::size_t header_count_ = 0;    // headers of frame_ in use (the rest are spare strings)
  std::size_t distinct_count_ = 0;  // distinct header names in this frame
  // This frame's distinct names, by hash (open addressing, at most half full): a header line
  // costs one look-up however many names and repeats the frame has. An entry belongs to this
  // frame when stamped with frame_no_, so a new frame empties the table in O(1).
  struct name_slot {
    std::uint32_t frame = 0;   // frame_no_ of the frame that filled it
    std::uint32_t header = 0;  // index in frame_.headers
  };
  static constexpr std::size_t linear_names = 8;  // up to this many names: no table
  std::vector<name_slot> names_;
  bool table_holds_frame_ = false;  // names_ was filled for this frame (past linear_names)
  std::uint32_t frame_no_ = 0;
  frame frame_;                        // the frame being built; swapped into `out` when whole
};

/// Whether the given command's headers are escaped in `v` (never for CONNECT/CONNECTED and
/// STOMP, which is CONNECT under another name; never in 1.0).
bool escapes_headers(std::string_view command, version v) noexcept;

/// Unescapes a header name or value per `v` into `out` (replacing its contents). False on an
/// undefined escape sequence (1.1/1.2 only: in 1.0 a backslash is literal).
bool unescape(std::string_view in, version v, std::string& out);

}  // namespace stomp
