#include "transport/websocket/framing.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace transport::websocket;
using kind = decode_result::kind;
using namespace std::string_literals;

// A client frame: masked with a fixed key unless `masked` is false.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true,
                         int force_len_bytes = 0) {
  std::string f(1, static_cast<char>(first_byte));
  const std::uint8_t m = masked ? 0x80 : 0;
  const auto n = payload.size();
  if (force_len_bytes == 8 || (force_len_bytes == 0 && n > 0xFFFF)) {
    f += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xFF);
  } else if (force_len_bytes == 2 || (force_len_bytes == 0 && n >= 126)) {
    f += static_cast<char>(m | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(m | n);
  }
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (masked) f.append(key, 4);
  for (std::size_t i = 0; i < n; ++i)
    f += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
  return f;
}

struct recorder : frame_decoder::handler {
  std::vector<std::pair<bool, std::string>> messages;
  std::vector<std::string> pings;
  void on_message(bool text, std::string_view p) override { messages.emplace_back(text, p); }
  void on_ping(std::string_view p) override { pings.emplace_back(p); }
};

// Feeds `wire` whole and at every split point; every way must give the same result.
decode_result decode(std::string wire, recorder& out, std::size_t max = 1024) {
  decode_result whole;
  {
    frame_decoder d(max);
    std::string copy = wire;
    whole = d.feed(copy, out);
  }
  // Every split point of small inputs; a stride through large ones (quadratic otherwise).
  const std::size_t stride = wire.size() > 4096 ? 509 : 1;
  for (std::size_t split = 1; split < wire.size(); split += stride) {
    recorder r;
    frame_decoder d(max);
    std::string a = wire.substr(0, split), b = wire.substr(split);
    auto res = d.feed(a, r);
    if (res.what == kind::more) res = d.feed(b, r);
    EXPECT_EQ(res.what, whole.what) << "split " << split;
    EXPECT_EQ(res.code, whole.code) << "split " << split;
    EXPECT_EQ(r.messages, out.messages) << "split " << split;
  }
  return whole;
}

TEST(WsFraming, DecodesMaskedTextAndBinaryMessages) {
  recorder r;
  auto res = decode(client_frame(0x81, "SEND\n\n\0"s) + client_frame(0x82, "\xff\x00"s), r);
  EXPECT_EQ(res.what, kind::more);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], std::make_pair(true, "SEND\n\n\0"s));
  EXPECT_EQ(r.messages[1], std::make_pair(false, "\xff\x00"s));
}

TEST(WsFraming, Decodes16And64BitLengths) {
  recorder r;
  const std::string mid(300, 'a'), big(70000, 'b');
  auto res = decode(client_frame(0x82, mid) + client_frame(0x82, big), r, 100000);
  EXPECT_EQ(res.what, kind::more);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].second, mid);
  EXPECT_EQ(r.messages[1].second, big);
}

TEST(WsFraming, JoinsFragmentsWithControlFramesBetween) {
  recorder r;
  auto res = decode(client_frame(0x01, "he") + client_frame(0x89, "p") +
                        client_frame(0x00, "ll") + client_frame(0x80, "o"),
                    r);
  EXPECT_EQ(res.what, kind::more);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], std::make_pair(true, "hello"s));
  EXPECT_EQ(r.pings, std::vector<std::string>{"p"});
}

TEST(WsFraming, EmptyFramesAreMessagesOnlyWhenFinal) {
  recorder r;
  auto res = decode(client_frame(0x02, "") + client_frame(0x80, "") + client_frame(0x81, ""), r);
  EXPECT_EQ(res.what, kind::more);
  EXPECT_EQ(r.messages.size(), 2u);
}

TEST(WsFraming, CloseEchoesThePeersCodeOr1000) {
  recorder r;
  auto res = decode(client_frame(0x88, "\x03\xe9""bye"), r);  // 1001
  EXPECT_EQ(res.what, kind::closed);
  EXPECT_EQ(res.peer_code, 1001);
  EXPECT_EQ(res.code, 1001);
  res = decode(client_frame(0x88, ""), r);
  EXPECT_EQ(res.what, kind::closed);
  EXPECT_EQ(res.peer_code, 0);
  EXPECT_EQ(res.code, close_code::normal);
}

void expect_failure(const std::string& wire, frame_error e, std::size_t max = 1024) {
  recorder r;
  auto res = decode(wire, r, max);
  EXPECT_EQ(res.what, kind::failed);
  EXPECT_EQ(res.error, make_error_code(e)) << res.error.message();
  EXPECT_EQ(res.code, close_code_for(e));
}

TEST(WsFraming, ProtocolErrorsClose1002) {
  expect_failure(client_frame(0xC1, "x"), frame_error::reserved_bits);
  expect_failure(client_frame(0xA1, "x"), frame_error::reserved_bits);
  expect_failure(client_frame(0x83, "x"), frame_error::bad_opcode);
  expect_failure(client_frame(0x8B, "x"), frame_error::bad_opcode);
  expect_failure(client_frame(0x81, "x", false), frame_error::unmasked);
  expect_failure(client_frame(0x09, "x"), frame_error::control_fragmented);
  expect_failure(client_frame(0x89, std::string(126, 'p')), frame_error::control_too_big);
  expect_failure(client_frame(0x82, "short", true, 2), frame_error::length_not_minimal);
  expect_failure(client_frame(0x82, std::string(300, 'x'), true, 8),
                 frame_error::length_not_minimal, 100000);
  expect_failure(client_frame(0x80, "x"), frame_error::bad_continuation);
  expect_failure(client_frame(0x01, "a") + client_frame(0x81, "b"),
                 frame_error::data_in_fragmented);
  expect_failure(client_frame(0x88, "\x03"), frame_error::bad_close_size);
  expect_failure(client_frame(0x88, "\x03\xed"), frame_error::bad_close_code);  // 1005
  expect_failure(client_frame(0x88, "\x03\xe8\xff"), frame_error::bad_close_reason);
  EXPECT_EQ(close_code_for(frame_error::bad_opcode), 1002);
}

TEST(WsFraming, InvalidUtf8Closes1007EvenAcrossFragments) {
  expect_failure(client_frame(0x81, "\xc0\xaf"), frame_error::bad_utf8);         // overlong
  expect_failure(client_frame(0x81, "\xed\xa0\x80"), frame_error::bad_utf8);     // surrogate
  expect_failure(client_frame(0x81, "\xf4\x90\x80\x80"), frame_error::bad_utf8); // > U+10FFFF
  expect_failure(client_frame(0x81, "ok\xe2\x82"), frame_error::bad_utf8);       // truncated
  expect_failure(client_frame(0x01, "\xe2") + client_frame(0x80, ""), frame_error::bad_utf8);
  // A code point split across fragments is fine.
  recorder r;
  auto res = decode(client_frame(0x01, "\xe2\x82") + client_frame(0x80, "\xac"), r);
  EXPECT_EQ(res.what, kind::more);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].second, "\xe2\x82\xac");
}

TEST(WsFraming, FailsFastOnTheFirstImpossibleByte) {
  utf8_validator v;
  EXPECT_TRUE(v.feed("\xf0"));
  EXPECT_FALSE(v.feed("\x80"));  // overlong 4-byte form
  utf8_validator w;
  EXPECT_TRUE(w.feed("\xe2\x82"));
  EXPECT_FALSE(w.complete());
}

TEST(WsFraming, MessageLimitAtNAndNPlusOneCloses1009) {
  recorder r;
  EXPECT_EQ(decode(client_frame(0x82, std::string(100, 'x')), r, 100).what, kind::more);
  expect_failure(client_frame(0x82, std::string(101, 'x')), frame_error::message_too_big, 100);
  // Fragments add up: 60 + 41 > 100.
  expect_failure(client_frame(0x02, std::string(60, 'x')) + client_frame(0x80, std::string(41, 'x')),
                 frame_error::message_too_big, 100);
  // Judged at the header: a huge announced length fails before any payload arrives.
  frame_decoder d(100);
  std::string head = client_frame(0x82, std::string(70000, 'x')).substr(0, 14);
  EXPECT_EQ(d.feed(head, r).code, close_code::too_big);
}

TEST(WsFraming, EncodesUnmaskedServerFrames) {
  EXPECT_EQ(encode_header(opcode::text, 5).view(), "\x81\x05"s);
  EXPECT_EQ(encode_header(opcode::binary, 300).view(), "\x82\x7e\x01\x2c"s);
  EXPECT_EQ(encode_header(opcode::text, 70000).view(), "\x81\x7f\0\0\0\0\0\x01\x11\x70"s);
  EXPECT_EQ(encode_close(1009), "\x88\x02\x03\xf1"s);
  EXPECT_EQ(encode_control(opcode::pong, "hi"), "\x8a\x02hi"s);
}

}  // namespace
