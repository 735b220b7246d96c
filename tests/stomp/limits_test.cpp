// Each limit at N (accepted) and N+1 (its own error). parse_all_ways() also feeds every input
// byte by byte and split at every point, so the split paths are checked too.
#include <gtest/gtest.h>

#include "stomp/error.hpp"
#include "stomp/parser.hpp"
#include "tests/stomp/feed.hpp"

namespace stomp::test {
namespace {

const std::string nul = bytes("\0");

limits with(std::size_t limits::*field, std::size_t value) {
  limits l;
  l.*field = value;
  return l;
}

TEST(Limits, CommandAtLimitAndOver) {
  const limits l = with(&limits::max_command, 5);
  EXPECT_EQ(parse_one("ABORT\n\n" + nul, version::v1_2, l).command, "ABORT");
  EXPECT_EQ(parse_one("ABORT\r\n\n" + nul, version::v1_2, l).command, "ABORT");  // EOL not counted
  const limits l4 = with(&limits::max_command, 4);
  EXPECT_EQ(parse_error("ABORT\n\n" + nul, version::v1_2, l4), error::command_too_long);
}

TEST(Limits, EndlessCommandLineFailsWithoutWaitingForEol) {
  const limits l = with(&limits::max_command, 4);
  EXPECT_EQ(parse_error("AAAAA", version::v1_2, l), error::command_too_long);
  EXPECT_EQ(parse_error(std::string(100, 'A'), version::v1_2, l), error::command_too_long);
  // A CR right after N bytes may still be the EOL: wait for the next byte.
  const parse_result r = parse_all_ways("SEND\r", version::v1_2, l);
  EXPECT_EQ(r.last, parse_status::need_more);
  EXPECT_EQ(r.buffered, 5u);
  EXPECT_EQ(parse_error("SEND\rX", version::v1_2, l), error::command_too_long);
}

TEST(Limits, HeaderLineAtLimitAndOver) {
  const limits l = with(&limits::max_header_line, 10);
  const std::string at = "k:" + std::string(8, 'v');  // 10 bytes
  EXPECT_EQ(parse_one("SEND\n" + at + "\n\n" + nul, version::v1_2, l).get("k"), at.substr(2));
  EXPECT_EQ(parse_one("SEND\n" + at + "\r\n\r\n" + nul, version::v1_2, l).get("k"), at.substr(2));
  EXPECT_EQ(parse_error("SEND\n" + at + "v\n\n" + nul, version::v1_2, l),
            error::header_line_too_long);
}

TEST(Limits, EndlessHeaderLineFailsAsSoonAsItPassesTheLimit) {
  const limits l = with(&limits::max_header_line, 10);
  EXPECT_EQ(parse_error("SEND\nk:" + std::string(9, 'v'), version::v1_2, l),
            error::header_line_too_long);
  EXPECT_EQ(parse_error("SEND\nk:" + std::string(1000, 'v'), version::v1_2, l),
            error::header_line_too_long);
  EXPECT_EQ(parse_all_ways("SEND\nk:" + std::string(8, 'v'), version::v1_2, l).last,
            parse_status::need_more);
}

std::string headers(std::size_t distinct, std::size_t repeats) {
  std::string s;
  for (std::size_t i = 0; i < distinct; ++i) s += "h" + std::to_string(i) + ":v\n";
  for (std::size_t i = 0; i < repeats; ++i) s += "h0:again\n";
  return s;
}

TEST(Limits, DistinctHeadersAtLimitAndOver) {
  const limits l = with(&limits::max_headers, 3);
  EXPECT_EQ(parse_one("SEND\n" + headers(3, 0) + "\n" + nul, version::v1_2, l).headers.size(), 3u);
  EXPECT_EQ(parse_error("SEND\n" + headers(4, 0) + "\n" + nul, version::v1_2, l),
            error::too_many_headers);
}

TEST(Limits, RepeatedHeadersDoNotCount) {
  const limits l = with(&limits::max_headers, 3);
  const frame f = parse_one("SEND\n" + headers(3, 5) + "\n" + nul, version::v1_2, l);
  EXPECT_EQ(f.headers.size(), 3u);  // the repeats are dropped, not kept
  EXPECT_EQ(f.get("h0"), "v");
}

// Memory follows distinct names: 100,000 repeats of each of 64 names leave 64 headers.
TEST(Limits, ManyRepeatsOfManyNamesKeepOnlyTheFirstOfEach) {
  std::string input = "SEND\n";
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 64; ++i) input += "n" + std::to_string(i) + ":" + std::to_string(round) + "\n";
  }
  input += "\n" + nul;
  limits l;
  l.max_frame = input.size();
  frame f;
  parser p(l);
  std::string_view in = input;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  ASSERT_EQ(f.headers.size(), 64u);
  EXPECT_EQ(f.headers[0], (header{"n0", "0"}));
  EXPECT_EQ(f.headers[63], (header{"n63", "0"}));
}

// Many distinct names (the name table grows and rehashes many times), then a repeat of each:
// one look-up per line, the first value kept, the limit at N and N+1.
TEST(Limits, ManyDistinctNamesThenRepeatsOfEach) {
  constexpr int names = 20'000;
  std::string input = "SEND\n";
  for (int i = 0; i < names; ++i) input += "n" + std::to_string(i) + ":first\n";
  for (int i = names - 1; i >= 0; --i) input += "n" + std::to_string(i) + ":again\n";
  limits l;
  l.max_headers = names;
  l.max_frame = input.size() + 64;
  frame f;
  parser p(l);
  const std::string whole = input + "\n" + nul;
  std::string_view in = whole;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  ASSERT_EQ(f.headers.size(), static_cast<std::size_t>(names));
  EXPECT_EQ(f.get("n0"), "first");
  EXPECT_EQ(f.get("n19999"), "first");
  l.max_headers = names - 1;
  parser over(l);
  in = whole;
  EXPECT_EQ(over.feed(in, f), parse_status::error);
  EXPECT_EQ(over.error(), error::too_many_headers);
}

TEST(Limits, NulTerminatedBodyAtLimitAndOver) {
  const limits l = with(&limits::max_body, 8);
  EXPECT_EQ(parse_one("SEND\n\n" + std::string(8, 'b') + nul, version::v1_2, l).body.size(), 8u);
  EXPECT_EQ(parse_error("SEND\n\n" + std::string(9, 'b') + nul, version::v1_2, l),
            error::body_too_large);
  // Without a NUL in sight the parser stops at the limit rather than buffering on.
  EXPECT_EQ(parse_error("SEND\n\n" + std::string(9, 'b'), version::v1_2, l), error::body_too_large);
}

TEST(Limits, ContentLengthAtLimitAndOver) {
  const limits l = with(&limits::max_body, 8);
  EXPECT_EQ(parse_one("SEND\ncontent-length:8\n\n" + std::string(8, '\0') + nul, version::v1_2, l)
                .body.size(),
            8u);
  // Fails at the header, before any body byte arrives.
  EXPECT_EQ(parse_error("SEND\ncontent-length:9\n", version::v1_2, l), error::body_too_large);
}

// "SEND\nk:v\n\n" is 10 bytes; the frame is those, the body and the NUL.
TEST(Limits, FrameAtLimitAndOverWithNulTerminatedBody) {
  const limits l = with(&limits::max_frame, 30);
  EXPECT_EQ(parse_one("SEND\nk:v\n\n" + std::string(19, 'b') + nul, version::v1_2, l).body.size(),
            19u);
  EXPECT_EQ(parse_error("SEND\nk:v\n\n" + std::string(20, 'b') + nul, version::v1_2, l),
            error::frame_too_large);
  EXPECT_EQ(parse_error("SEND\nk:v\n\n" + std::string(20, 'b'), version::v1_2, l),
            error::frame_too_large);
}

TEST(Limits, FrameAtLimitAndOverWithContentLength) {
  const limits l = with(&limits::max_frame, 40);
  // 24 header bytes + 15 body bytes + NUL = 40.
  EXPECT_EQ(parse_one("SEND\ncontent-length:15\n\n" + std::string(15, 'b') + nul, version::v1_2, l)
                .body.size(),
            15u);
  // 24 + 16 + 1 = 41: fails at the blank line, before any body byte.
  EXPECT_EQ(parse_error("SEND\ncontent-length:16\n\n", version::v1_2, l), error::frame_too_large);
}

TEST(Limits, FrameLimitStopsEndlessRepeatedHeaders) {
  const limits l = with(&limits::max_frame, 40);
  std::string input = "SEND\n";
  for (int i = 0; i < 25; ++i) input += "h:v\n";  // duplicates: only the frame limit stops them
  EXPECT_EQ(parse_error(input, version::v1_2, l), error::frame_too_large);
}

TEST(Limits, HeartBeatsDoNotCountTowardsTheFrame) {
  const limits l = with(&limits::max_frame, 11);
  const parse_result r =
      parse_all_ways(std::string(50, '\n') + "SEND\nk:v\n\n" + nul, version::v1_2, l);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_FALSE(r.error);
}

TEST(Limits, LimitErrorsAreClassified) {
  EXPECT_TRUE(is_limit_error(error::frame_too_large));
  EXPECT_TRUE(is_limit_error(error::command_too_long));
  EXPECT_FALSE(is_limit_error(error::missing_nul));
  EXPECT_FALSE(is_limit_error(std::make_error_code(std::errc::message_size)));
}

// Byte by byte, the error comes with the first byte that proves the line too long, and the
// parser never holds more than the limit allows before that.
TEST(Limits, ByteByByteHeaderLineFailsAtTheFirstByteOverTheLimit) {
  const limits l = with(&limits::max_header_line, 10);
  parser p(l);
  frame f;
  const std::string input = "SEND\n" + std::string(1000, 'v');
  std::size_t failed_at = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    std::string_view one = std::string_view(input).substr(i, 1);
    if (p.feed(one, f) == parse_status::error) {
      failed_at = i;
      break;
    }
    EXPECT_LE(p.buffered(), 5u + 11u);
  }
  EXPECT_EQ(failed_at, 5u + 10u);  // the 11th byte of the line
  EXPECT_EQ(p.error(), error::header_line_too_long);
}

TEST(Limits, LoweredLimitsApplyToTheFrameInProgress) {
  parser p;
  frame f;
  std::string_view part = "SEND\nkey:0123456789012345";
  ASSERT_EQ(p.feed(part, f), parse_status::need_more);
  p.set_limits(with(&limits::max_header_line, 10));
  std::string_view more = "6";
  EXPECT_EQ(p.feed(more, f), parse_status::error);
  EXPECT_EQ(p.error(), error::header_line_too_long);

  parser q;
  std::string_view body = "SEND\n\n0123456789";
  ASSERT_EQ(q.feed(body, f), parse_status::need_more);
  q.set_limits(with(&limits::max_body, 4));
  std::string_view rest = "x";
  EXPECT_EQ(q.feed(rest, f), parse_status::error);
  EXPECT_EQ(q.error(), error::body_too_large);
}

// Parsing is linear in the bytes fed: a partial frame is never rescanned from its start, so a
// 1 MiB body arriving one byte per read costs a million small steps, not a trillion.
TEST(Limits, ByteByByteLargeBodyCompletes) {
  const std::string input = "SEND\n\n" + std::string(1 << 20, 'b') + nul;
  parser p;
  frame f;
  parse_status last = parse_status::need_more;
  for (std::size_t i = 0; i < input.size(); ++i) {
    std::string_view one = std::string_view(input).substr(i, 1);
    last = p.feed(one, f);
  }
  ASSERT_EQ(last, parse_status::frame);
  EXPECT_EQ(f.body.size(), std::size_t{1} << 20);
}

TEST(Limits, BodyErrorWinsWhenBothLimitsFallOnTheSameByte) {
  limits l;
  l.max_body = 5;
  l.max_frame = 5 + 6 + 1;  // "SEND\n\n" + 5 body bytes + NUL
  EXPECT_EQ(parse_one("SEND\n\n12345" + nul, version::v1_2, l).body, "12345");
  EXPECT_EQ(parse_error("SEND\n\n123456" + nul, version::v1_2, l), error::body_too_large);
}

}  // namespace
}  // namespace stomp::test


namespace stomp::test {
namespace {

// Around the switch from comparing names one by one to the table (8 distinct names): every
// count from 1 to 20 distinct names, each followed by repeats of all, keeps the first of each.
TEST(Limits, DistinctNamesAroundTheTableSwitchKeepTheFirstValue) {
  for (std::size_t distinct = 1; distinct <= 20; ++distinct) {
    std::string s = "SEND\n";
    for (std::size_t i = 0; i < distinct; ++i) s += "h" + std::to_string(i) + ":first\n";
    for (std::size_t i = 0; i < distinct; ++i) s += "h" + std::to_string(i) + ":again\n";
    s += "\n";
    s.push_back('\0');
    parser p;
    frame f;
    std::string_view in = s;
    ASSERT_EQ(p.feed(in, f), parse_status::frame) << distinct;
    ASSERT_EQ(f.headers.size(), distinct);
    for (std::size_t i = 0; i < distinct; ++i) {
      EXPECT_EQ(f.get("h" + std::to_string(i)).value_or(""), "first") << distinct << " " << i;
    }
  }
}

}  // namespace
}  // namespace stomp::test
