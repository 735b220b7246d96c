#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

// RFC 6455 data framing after Beast's handshake (docs/benchmarks.md, "Issue #19: our WebSocket
// framing"): a decoder for client-to-server frames and an encoder for server frames. No
// sockets, no Boost: the connection feeds bytes and writes what the encoder gives it, and the
// differential fuzzer (fuzz/ws_framing_fuzzer.cpp) holds it to Beast's behaviour.
namespace transport::websocket {

/// The close codes we send (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t bad_payload = 1007;
inline constexpr std::uint16_t policy_error = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

/// Frame opcodes (RFC 6455 §5.2).
enum class opcode : std::uint8_t { cont = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// Why the decoder failed the connection; one enumerator per rule (RFC 6455 §5, §7.4).
enum class frame_error {
  reserved_bits = 1,    ///< RSV1-3 set without a negotiated extension (1002)
  bad_opcode,           ///< a reserved opcode (1002)
  unmasked,             ///< a client frame without a mask (1002)
  control_fragmented,   ///< a control frame without FIN (1002)
  control_too_big,      ///< a control payload over 125 bytes (1002)
  length_not_minimal,   ///< a 16/64-bit length that fits the shorter form (1002)
  bad_continuation,     ///< a continuation frame with no message begun (1002)
  data_in_fragmented,   ///< a new text/binary frame while a message awaits its continuation (1002)
  bad_close_size,       ///< a close payload of one byte (1002)
  bad_close_code,       ///< a close code that may not be sent (1002)
  bad_close_reason,     ///< a close reason that is not UTF-8 (1002, as Beast)
  bad_utf8,             ///< a text message that is not UTF-8 (1007)
  message_too_big,      ///< a message over the configured maximum (1009)
};

/// The error category of frame_error ("websocket framing").
const std::error_category& framing_category() noexcept;
inline std::error_code make_error_code(frame_error e) noexcept {
  return {static_cast<int>(e), framing_category()};
}

/// The close code we send when failing the connection for `e`.
std::uint16_t close_code_for(frame_error e) noexcept;

/// Whether a peer may send `code` in a close frame (RFC 6455 §7.4.2; the set Beast accepts).
bool is_valid_close_code(std::uint16_t code) noexcept;

/// Incremental UTF-8 check: fails at the first byte no valid text can continue (RFC 3629 §4,
/// no overlongs, surrogates or code points past U+10FFFF). 1 byte of state.
class utf8_validator {
 public:
  /// Checks `bytes`, which continue whatever was fed before. False once invalid.
  bool feed(std::string_view bytes) noexcept;
  /// Whether the text so far ends on a code point boundary.
  bool complete() const noexcept { return state_ == 0; }
  void reset() noexcept { state_ = 0; }

 private:
  std::uint8_t state_ = 0;
};

/// What feed() stopped at.
struct decode_result {
  enum class kind : std::uint8_t {
    more,    ///< every byte consumed; waiting for more
    closed,  ///< the peer's close frame: reply with `code` (its own, or 1000 when it sent none)
    failed,  ///< a protocol error: send `code`, then close
  };
  kind what = kind::more;
  std::uint16_t code = 0;   ///< the close code to send (closed, failed)
  std::uint16_t peer_code = 0;  ///< closed: the code the peer sent, 0 when none
  std::error_code error;        ///< failed: which rule
};

/// Decodes client-to-server frames (RFC 6455 §5) as they arrive, split anywhere. Holds only
/// the part of a frame header, control payload or fragmented/split message still incomplete,
/// and frees it once the message is whole: an idle decoder holds no heap memory. Not
/// thread-safe; one per connection.
class frame_decoder {
 public:
  /// Receives what the frames carry. Called from inside feed().
  class handler {
   public:
    /// A complete text or binary message. `payload` is valid only during the call.
    virtual void on_message(bool text, std::string_view payload) = 0;
    /// A ping: the caller answers with a pong carrying `payload` (<= 125 bytes).
    virtual void on_ping(std::string_view payload) = 0;

   protected:
    ~handler() = default;
  };

  /// `max_message_bytes`: a larger message fails with 1009 (0: no limit).
  explicit frame_decoder(std::size_t max_message_bytes) noexcept : max_message_(max_message_bytes) {}

  /// Decodes `bytes`, unmasking them in place. Stops at the peer's close frame or at the first
  /// protocol error; after either, feed() must not be called again.
  decode_result feed(std::span<char> bytes, handler& h);

 private:
  enum class step : std::uint8_t { next, stop };

  std::size_t take_header(std::span<const char> bytes);
  std::size_t header_size() const noexcept;
  std::error_code start_frame();
  step take_payload(std::span<char> bytes, handler& h, decode_result& r);
  step end_frame(handler& h, decode_result& r);
  step end_control(handler& h, decode_result& r);
  step fail(frame_error e, decode_result& r);

  std::size_t max_message_;
  std::uint64_t frame_len_ = 0;     ///< payload length of the current frame
  std::uint64_t remaining_ = 0;     ///< its payload bytes still to come
  std::uint64_t message_size_ = 0;  ///< payload bytes of the current message so far
  std::string message_;  ///< payload of a message spanning frames or reads
  std::string control_;  ///< payload of a control frame spanning reads
  std::array<std::uint8_t, 14> head_{};
  std::array<std::uint8_t, 4> key_{};
  std::uint8_t head_len_ = 0;
  std::uint8_t key_pos_ = 0;  ///< offset of the next payload byte in the mask, mod 4
  opcode op_ = opcode::cont;  ///< the current frame's
  bool in_frame_ = false;     ///< header done, payload in progress
  bool fin_ = false;
  bool in_message_ = false;  ///< a text/binary message awaits its continuation frames
  bool text_ = false;        ///< the current message's type
  utf8_validator utf8_;
};

/// A server frame header (unmasked, FIN set): 2, 4 or 10 bytes.
struct frame_header {
  std::array<char, 10> bytes;
  std::uint8_t size;
  std::string_view view() const noexcept { return {bytes.data(), size}; }
};

/// The header of a final, unmasked server frame of `op` with `payload_size` bytes.
frame_header encode_header(opcode op, std::uint64_t payload_size) noexcept;

/// A whole server control frame: close with `code` (no reason), or ping/pong with `payload`.
std::string encode_close(std::uint16_t code);
std::string encode_control(opcode op, std::string_view payload);

}  // namespace transport::websocket

template <>
struct std::is_error_code_enum<transport::websocket::frame_error> : std::true_type {};
