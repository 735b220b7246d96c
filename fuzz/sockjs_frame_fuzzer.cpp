// Fuzzes the SockJS framing of transport/sockjs/sockjs_frame.cpp: what parses the JSON a client
// sends (the xhr_send body and every SockJS WebSocket message: an array of strings or one
// string) and what encodes the frames the server writes ("a[...]", "c[...]").
// Input: byte 0 picks where the rest is split in two (for the head + shared tail of a frame);
// the whole rest is also parsed as client JSON.
// Aborts when
//  - messages a client sent, encoded as the server would and parsed back, are not the same
//    messages (valid UTF-8), or do not come back stable (invalid UTF-8 turns into U+FFFD once,
//    then the round trip is exact);
//  - any bytes as a message frame do not parse back as exactly one message, contain a raw
//    control character (they would break an eventsource "data:" line or an xhr_streaming
//    line), or are not valid UTF-8;
//  - a frame split into head + tail encodes differently from the same bytes in one piece;
//  - a close frame's reason does not parse back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/sockjs/sockjs_frame.hpp"

namespace {

using namespace transport::detail;

[[noreturn]] void broken(const char* rule, std::string_view detail) {
  std::fprintf(stderr, "sockjs_frame_fuzzer: %s: \"%.*s\"\n", rule,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF): what the encoder keeps.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (b0 < 0x80) n = 0, cp = b0;
    else if ((b0 & 0xE0) == 0xC0) n = 1, cp = b0 & 0x1Fu;
    else if ((b0 & 0xF0) == 0xE0) n = 2, cp = b0 & 0x0Fu;
    else if ((b0 & 0xF8) == 0xF0) n = 3, cp = b0 & 0x07u;
    else return false;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    static constexpr char32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// The "a[...]" frame the server would write for these messages, minus the "a".
std::string encode_array(const std::vector<std::string>& messages) {
  std::string out = "[";
  for (std::size_t k = 0; k < messages.size(); ++k) {
    if (k) out += ',';
    append_sockjs_string(out, messages[k]);
  }
  return out + ']';
}

std::vector<std::string> parse_or_abort(std::string_view json, const char* what) {
  std::vector<std::string> out;
  if (!parse_sockjs_messages(json, out)) broken(what, json);
  return out;
}

// Client JSON -> messages -> server encoding -> messages again.
void check_client_round_trip(std::string_view json) {
  std::vector<std::string> messages;
  if (!parse_sockjs_messages(json, messages)) return;
  const std::string encoded = encode_array(messages);
  const auto again = parse_or_abort(encoded, "own encoding does not parse");
  if (again.size() != messages.size()) broken("message count changed", json);
  for (std::size_t k = 0; k < messages.size(); ++k) {
    if (valid_utf8(messages[k]) && again[k] != messages[k]) broken("message changed", json);
    if (!valid_utf8(again[k])) broken("decoded own encoding is not UTF-8", encoded);
  }
  if (encode_array(again) != encoded) broken("round trip not stable", json);
}

// Arbitrary bytes as one outgoing STOMP frame, whole and split at `cut`.
void check_server_frame(std::string_view bytes, std::size_t cut) {
  const broker::outgoing whole{std::string(bytes), nullptr};
  const std::string frame = sockjs_message_frame(whole);
  if (frame.size() < 3 || frame.substr(0, 2) != "a[" || frame.back() != ']')
    broken("not an array frame", frame);
  for (const char c : frame)
    if (static_cast<unsigned char>(c) < 0x20) broken("raw control character in frame", frame);
  if (!valid_utf8(frame)) broken("frame is not UTF-8", frame);
  const auto messages = parse_or_abort(std::string_view(frame).substr(1), "frame does not parse");
  if (messages.size() != 1) broken("frame is not one message", frame);
  if (valid_utf8(bytes) && messages[0] != bytes) broken("frame changed the bytes", bytes);

  const broker::outgoing split{std::string(bytes.substr(0, cut)),
                               std::make_shared<const std::string>(bytes.substr(cut))};
  if (sockjs_message_frame(split) != frame) broken("head + tail encode differently", bytes);
}

void check_close_frame(std::string_view reason) {
  const std::string frame = sockjs_close_frame(3000, reason);
  constexpr std::string_view prefix = "c[3000,";
  if (frame.substr(0, prefix.size()) != prefix || frame.back() != ']')
    broken("not a close frame", frame);
  const auto inner = std::string_view(frame).substr(prefix.size(), frame.size() - prefix.size() - 1);
  const auto messages = parse_or_abort(inner, "close reason does not parse");
  if (messages.size() != 1 || (valid_utf8(reason) && messages[0] != reason))
    broken("close reason changed", reason);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = rest.empty() ? 0 : data[0] % (rest.size() + 1);
  check_client_round_trip(rest);
  check_server_frame(rest, cut);
  check_close_frame(rest);
  return 0;
}
