// RFC 6455 framing, the parts a server needs: https://www.rfc-editor.org/rfc/rfc6455#section-5
//
// Decoder rules, checked in Beast 1.81's order so that both fail the same input with the same
// close code (fuzz/ws_framing_fuzzer.cpp compares them):
//   - a header is judged once it is whole (2 bytes, the 16/64-bit length, the mask key);
//   - text/binary while a message awaits continuation, continuation with none begun, RSV bits
//     (no extension is ever negotiated), reserved opcodes, fragmented or >125-byte control
//     frames, unmasked client frames, non-minimal lengths: 1002;
//   - a message whose frames add up to more than max_message_bytes: 1009, at the header;
//   - text that is not UTF-8: 1007, at the first byte that cannot continue valid text;
//   - close payload of 1 byte, a close code not allowed on the wire, a non-UTF-8 reason: 1002;
//   - the peer's close: we answer with its code (1000 when it sent none), as Beast does.
// Deliberate deviation from Beast: a text message ending in an empty final frame after an
// incomplete code point is 1007 here (RFC 6455 §8.1); Beast skips that check.
#include "transport/websocket/framing.hpp"

#include <algorithm>
#include <cstring>

namespace transport::websocket {

namespace {

class framing_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "websocket framing"; }
  std::string message(int ev) const override {
    switch (static_cast<frame_error>(ev)) {
      case frame_error::reserved_bits: return "reserved bits set";
      case frame_error::bad_opcode: return "reserved opcode";
      case frame_error::unmasked: return "unmasked client frame";
      case frame_error::control_fragmented: return "fragmented control frame";
      case frame_error::control_too_big: return "control frame over 125 bytes";
      case frame_error::length_not_minimal: return "frame length not minimally encoded";
      case frame_error::bad_continuation: return "continuation frame without a message";
      case frame_error::data_in_fragmented: return "data frame inside a fragmented message";
      case frame_error::bad_close_size: return "close payload of one byte";
      case frame_error::bad_close_code: return "invalid close code";
      case frame_error::bad_close_reason: return "close reason not UTF-8";
      case frame_error::bad_utf8: return "text message not UTF-8";
      case frame_error::message_too_big: return "message too big";
    }
    return "unknown websocket framing error";
  }
};

bool is_control(opcode op) noexcept { return static_cast<std::uint8_t>(op) >= 8; }

bool is_known(std::uint8_t op) noexcept { return op <= 2 || (op >= 8 && op <= 10); }

void unmask(std::span<char> bytes, const std::array<std::uint8_t, 4>& key, std::uint8_t& pos) {
  for (auto& c : bytes) {
    c = static_cast<char>(static_cast<std::uint8_t>(c) ^ key[pos]);
    pos = static_cast<std::uint8_t>((pos + 1) & 3);
  }
}

}  // namespace

const std::error_category& framing_category() noexcept {
  static const framing_category_impl category;
  return category;
}

std::uint16_t close_code_for(frame_error e) noexcept {
  switch (e) {
    case frame_error::bad_utf8: return close_code::bad_payload;
    case frame_error::message_too_big: return close_code::too_big;
    default: return close_code::protocol_error;
  }
}

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1013) return true;
  // 3000-4999 are for libraries and applications; Beast also lets 5000 and above through.
  return code >= 3000;
}

// States: 0 boundary; 1/2/3 continuation bytes still owed (80..BF); 4 after E0 (A0..BF);
// 5 after ED (80..9F, no surrogates); 6 after F0 (90..BF); 7 after F4 (80..8F); 8 invalid.
bool utf8_validator::feed(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p != end) {
    if (state_ == 0) {
      // ASCII runs, the common case for STOMP text, eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        if (w & 0x8080808080808080ULL) break;
        p += 8;
      }
      if (p == end) break;
      const std::uint8_t b = *p++;
      if (b < 0x80) continue;
      if (b >= 0xC2 && b <= 0xDF) state_ = 1;
      else if (b == 0xE0) state_ = 4;
      else if (b == 0xED) state_ = 5;
      else if (b >= 0xE1 && b <= 0xEF) state_ = 2;
      else if (b == 0xF0) state_ = 6;
      else if (b >= 0xF1 && b <= 0xF3) state_ = 3;
      else if (b == 0xF4) state_ = 7;
      else state_ = 8;
      if (state_ == 8) return false;
      continue;
    }
    const std::uint8_t b = *p++;
    bool ok = false;
    std::uint8_t next = 0;
    switch (state_) {
      case 1: ok = b >= 0x80 && b <= 0xBF; next = 0; break;
      case 2: ok = b >= 0x80 && b <= 0xBF; next = 1; break;
      case 3: ok = b >= 0x80 && b <= 0xBF; next = 2; break;
      case 4: ok = b >= 0xA0 && b <= 0xBF; next = 1; break;
      case 5: ok = b >= 0x80 && b <= 0x9F; next = 1; break;
      case 6: ok = b >= 0x90 && b <= 0xBF; next = 2; break;
      case 7: ok = b >= 0x80 && b <= 0x8F; next = 2; break;
      default: return false;
    }
    if (!ok) {
      state_ = 8;
      return false;
    }
    state_ = next;
  }
  return state_ != 8;
}

decode_result frame_decoder::feed(std::span<char> bytes, handler& h) {
  decode_result r;
  std::size_t pos = 0;
  while (pos < bytes.size() || (in_frame_ && remaining_ == 0)) {
    if (!in_frame_) {
      pos += take_header(bytes.subspan(pos));
      if (head_len_ < header_size()) break;  // the header is still incomplete
      if (auto ec = start_frame()) {
        fail(static_cast<frame_error>(ec.value()), r);
        return r;
      }
      continue;
    }
    const auto take = static_cast<std::size_t>(
        std::min<std::uint64_t>(remaining_, bytes.size() - pos));
    if (take_payload(bytes.subspan(pos, take), h, r) == step::stop) return r;
    pos += take;
    if (remaining_ == 0 && end_frame(h, r) == step::stop) return r;
  }
  return r;
}

// 2 bytes, then the extended length and the key the second byte announces.
std::size_t frame_decoder::header_size() const noexcept {
  if (head_len_ < 2) return 2;
  std::size_t n = 2;
  const auto len7 = head_[1] & 0x7F;
  if (len7 == 126) n += 2;
  if (len7 == 127) n += 8;
  if (head_[1] & 0x80) n += 4;
  return n;
}

std::size_t frame_decoder::take_header(std::span<const char> bytes) {
  std::size_t used = 0;
  while (used < bytes.size() && head_len_ < header_size())
    head_[head_len_++] = static_cast<std::uint8_t>(bytes[used++]);
  return used;
}

std::error_code frame_decoder::start_frame() {
  const std::uint8_t b0 = head_[0];
  const std::uint8_t b1 = head_[1];
  const std::uint8_t raw_op = b0 & 0x0F;
  const bool rsv = (b0 & 0x70) != 0;
  const bool masked = (b1 & 0x80) != 0;
  std::uint64_t len = b1 & 0x7F;
  fin_ = (b0 & 0x80) != 0;
  if (raw_op == 1 || raw_op == 2) {
    if (in_message_) return frame_error::data_in_fragmented;
    if (rsv) return frame_error::reserved_bits;
  } else if (raw_op == 0) {
    if (!in_message_) return frame_error::bad_continuation;
    if (rsv) return frame_error::reserved_bits;
  } else {
    if (!is_known(raw_op)) return frame_error::bad_opcode;
    if (!fin_) return frame_error::control_fragmented;
    if (len > 125) return frame_error::control_too_big;
    if (rsv) return frame_error::reserved_bits;
  }
  if (!masked) return frame_error::unmasked;
  std::size_t at = 2;
  if (len == 126) {
    len = (std::uint64_t{head_[2]} << 8) | head_[3];
    if (len < 126) return frame_error::length_not_minimal;
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | head_[i];
    if (len < 65536) return frame_error::length_not_minimal;
    at = 10;
  }
  std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(at), 4, key_.begin());
  op_ = static_cast<opcode>(raw_op);
  if (!is_control(op_)) {
    if (op_ != opcode::cont) {
      message_size_ = 0;
      text_ = op_ == opcode::text;
      utf8_.reset();
    }
    // Judged at the header, before any payload is held (Beast's read_message_max does too).
    if (max_message_ != 0 && (len > max_message_ || message_size_ > max_message_ - len))
      return frame_error::message_too_big;
    message_size_ += len;
    in_message_ = !fin_;
  }
  head_len_ = 0;
  key_pos_ = 0;
  frame_len_ = remaining_ = len;
  in_frame_ = true;
  return {};
}

frame_decoder::step frame_decoder::take_payload(std::span<char> bytes, handler& h,
                                                decode_result& r) {
  if (bytes.empty()) return step::next;
  unmask(bytes, key_, key_pos_);
  const std::string_view view(bytes.data(), bytes.size());
  if (is_control(op_)) {
    control_.append(view);
  } else {
    if (text_ && !utf8_.feed(view)) return fail(frame_error::bad_utf8, r);
    const bool whole_message = op_ != opcode::cont && fin_ && remaining_ == frame_len_ &&
                               bytes.size() == remaining_;
    if (whole_message) {
      // The common case: one frame, all in this read. No copy; unmasked in place.
      if (text_ && !utf8_.complete()) return fail(frame_error::bad_utf8, r);
      remaining_ = 0;
      in_frame_ = false;
      h.on_message(text_, view);
      return step::next;
    }
    message_.append(view);
  }
  remaining_ -= bytes.size();
  return step::next;
}

frame_decoder::step frame_decoder::end_frame(handler& h, decode_result& r) {
  if (!in_frame_) return step::next;  // delivered whole by take_payload
  in_frame_ = false;
  if (is_control(op_)) return end_control(h, r);
  if (!fin_) return step::next;
  if (text_ && !utf8_.complete()) return fail(frame_error::bad_utf8, r);
  h.on_message(text_, message_);
  // No buffer outlives a message: idle connections hold none.
  std::string().swap(message_);
  return step::next;
}

frame_decoder::step frame_decoder::end_control(handler& h, decode_result& r) {
  std::string payload;
  payload.swap(control_);
  if (op_ == opcode::ping) h.on_ping(payload);
  if (op_ != opcode::close) return step::next;
  if (payload.size() == 1) return fail(frame_error::bad_close_size, r);
  if (payload.size() >= 2) {
    const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                 static_cast<std::uint8_t>(payload[1]));
    if (!is_valid_close_code(code)) return fail(frame_error::bad_close_code, r);
    utf8_validator reason;
    if (!reason.feed(std::string_view(payload).substr(2)) || !reason.complete())
      return fail(frame_error::bad_close_reason, r);
    r.peer_code = code;
  }
  r.what = decode_result::kind::closed;
  r.code = r.peer_code != 0 ? r.peer_code : close_code::normal;
  return step::stop;
}

frame_decoder::step frame_decoder::fail(frame_error e, decode_result& r) {
  r.what = decode_result::kind::failed;
  r.code = close_code_for(e);
  r.error = make_error_code(e);
  std::string().swap(message_);
  std::string().swap(control_);
  return step::stop;
}

frame_header encode_header(opcode op, std::uint64_t payload_size) noexcept {
  frame_header h{};
  h.bytes[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
  if (payload_size < 126) {
    h.bytes[1] = static_cast<char>(payload_size);
    h.size = 2;
  } else if (payload_size <= 0xFFFF) {
    h.bytes[1] = 126;
    h.bytes[2] = static_cast<char>(payload_size >> 8);
    h.bytes[3] = static_cast<char>(payload_size & 0xFF);
    h.size = 4;
  } else {
    h.bytes[1] = 127;
    for (int i = 0; i < 8; ++i)
      h.bytes[static_cast<std::size_t>(2 + i)] =
          static_cast<char>((payload_size >> (56 - 8 * i)) & 0xFF);
    h.size = 10;
  }
  return h;
}

std::string encode_control(opcode op, std::string_view payload) {
  const auto h = encode_header(op, payload.size());
  std::string frame(h.view());
  frame.append(payload);
  return frame;
}

std::string encode_close(std::uint16_t code) {
  const char body[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return encode_control(opcode::close, std::string_view(body, 2));
}

}  // namespace transport::websocket
