#include "stomp/parser.hpp"

#include <gtest/gtest.h>

#include "stomp/error.hpp"
#include "tests/stomp/feed.hpp"

namespace stomp::test {
namespace {

TEST(Parser, CrLfLinesInEveryVersion) {
  for (version v : {version::v1_0, version::v1_1, version::v1_2}) {
    const frame f = parse_one("SEND\r\ndestination:/q\r\nx:y\r\n\r\nbody" + bytes("\0"), v);
    EXPECT_EQ(f, (frame{"SEND", {{"destination", "/q"}, {"x", "y"}}, "body"}));
  }
}

// idle(): nothing of a frame held, so the session may drop the parser and make a new one.
TEST(Parser, IdleOnlyBetweenFramesAndNeverAfterAnError) {
  parser p;
  frame f;
  EXPECT_TRUE(p.idle());
  const auto feed = [&](std::string_view in) { return p.feed(in, f); };
  for (std::string_view part : {"S", "SEND\n", "SEND\ndestination:/q\n\n", "\r"}) {
    parser fresh;
    std::string_view in = part;
    EXPECT_EQ(fresh.feed(in, f), parse_status::need_more) << part;
    EXPECT_FALSE(fresh.idle()) << part;  // a partial line, head or body
  }
  EXPECT_EQ(feed(bytes("SEND\ndestination:/q\n\nbody\0")), parse_status::frame);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(feed("\r"), parse_status::need_more);  // half of a heart-beat EOL
  EXPECT_FALSE(p.idle());
  EXPECT_EQ(feed("\n"), parse_status::need_more);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(feed(bytes("hello\n\n\0")), parse_status::error);
  EXPECT_FALSE(p.idle());
}

TEST(Parser, ContentLengthBodyMayHoldNul) {
  const frame f = parse_one(bytes("SEND\ncontent-length:5\n\na\0b\0c\0"));
  EXPECT_EQ(f.body, bytes("a\0b\0c"));
  EXPECT_EQ(f.get("content-length"), "5");
}

TEST(Parser, ContentLengthHonouredOnEveryCommand) {
  for (const std::string command : {"CONNECT", "MESSAGE", "ERROR", "ACK", "DISCONNECT"}) {
    EXPECT_EQ(parse_one(command + bytes("\ncontent-length:2\n\n\0\0\0")).body, bytes("\0\0"))
        << command;
  }
}

TEST(Parser, ZeroContentLength) {
  EXPECT_EQ(parse_one(bytes("SEND\ncontent-length:0\n\n\0")).body, "");
}

TEST(Parser, MissingNulAfterContentLengthBody) {
  EXPECT_EQ(parse_error(bytes("SEND\ncontent-length:2\n\nabc\0")), error::missing_nul);
}

TEST(Parser, NulWithoutBlankLineButWithContentLengthIsMissingNul) {
  EXPECT_EQ(parse_error(bytes("SEND\ncontent-length:2\n\0")), error::missing_nul);
}

TEST(Parser, FirstContentLengthWins) {
  EXPECT_EQ(parse_one(bytes("SEND\ncontent-length:1\ncontent-length:x\n\na\0")).body, "a");
}

TEST(Parser, SeveralFramesInOneBufferOnePerCall) {
  const std::string input = bytes("SEND\ndestination:/a\n\none\0") +
                            bytes("\nSEND\ncontent-length:3\n\nt\0o\0") + bytes("ACK\nid:1\n\n\0") +
                            "SEND\ndestination:/partial\n";
  parser p;
  std::string_view in(input);
  frame f;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f.body, "one");
  EXPECT_EQ(in.substr(0, 5), "\nSEND");  // advanced exactly past the first frame
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f.body, bytes("t\0o"));
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f.command, "ACK");
  EXPECT_EQ(p.feed(in, f), parse_status::need_more);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(p.buffered(), std::string_view("SEND\ndestination:/partial\n").size());

  const parse_result all = parse_all_ways(input);
  EXPECT_EQ(all.frames.size(), 3u);
  EXPECT_EQ(all.buffered, p.buffered());
}

TEST(Parser, HeaderValuesAreNeverTrimmed) {
  const frame f = parse_one(bytes("SEND\n key : value \n\n\0"));
  EXPECT_EQ(f.headers, (std::vector<header>{{" key ", " value "}}));
}

TEST(Parser, FirstColonSplitsNameAndValue) {
  EXPECT_EQ(
      parse_one(bytes("SEND\ndestination:http://x:80/a\n\n\0"), version::v1_0).get("destination"),
      "http://x:80/a");
  EXPECT_EQ(parse_one(bytes("SEND\nempty:\n\n\0")).get("empty"), "");
}

TEST(Parser, CrBeforeLfIsPartOfEolOthersAreKept) {
  const frame f = parse_one(bytes("SEND\na:x\r\r\nb:y\rz\n\n\0"), version::v1_1);
  EXPECT_EQ(f.get("a"), "x\r");
  EXPECT_EQ(f.get("b"), "y\rz");
}

TEST(Parser, NulInNulTerminatedBodyEndsFrame) {
  const parse_result r = parse_all_ways(bytes("SEND\n\nab\0cd\n"));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].body, "ab");
  EXPECT_EQ(r.last, parse_status::error);  // "cd" is not a command
  EXPECT_EQ(r.error, error::invalid_command);
}

TEST(Parser, EmptyCommand) { EXPECT_EQ(parse_error("\r\r\n"), error::invalid_command); }

TEST(Parser, InvalidCommandCharacters) {
  EXPECT_EQ(parse_error(bytes("send\n\n\0")), error::invalid_command);
  EXPECT_EQ(parse_error(bytes("SEND \n\n\0")), error::invalid_command);
  EXPECT_EQ(parse_error(bytes("SE1ND\n\n\0")), error::invalid_command);
}

TEST(Parser, UnknownCommand) {
  EXPECT_EQ(parse_error(bytes("PUBLISH\n\n\0")), error::unknown_command);
  EXPECT_EQ(parse_error(bytes("GET\n\n\0")), error::unknown_command);
}

TEST(Parser, HeaderWithoutColon) {
  EXPECT_EQ(parse_error(bytes("SEND\ndestination\n\n\0")), error::header_missing_colon);
}

TEST(Parser, HeaderWithEmptyName) {
  EXPECT_EQ(parse_error(bytes("SEND\n:value\n\n\0")), error::header_empty_name);
}

TEST(Parser, InvalidContentLength) {
  for (const char* value : {"", "abc", "-1", "+1", " 1", "1 ", "0x10", "1.5"}) {
    EXPECT_EQ(parse_error("SEND\ncontent-length:" + std::string(value) + "\n\n" + bytes("\0")),
              error::invalid_content_length)
        << value;
  }
}

TEST(Parser, HugeContentLengthIsBodyTooLarge) {
  EXPECT_EQ(parse_error("SEND\ncontent-length:99999999999999999999999999\n\n"),
            error::body_too_large);
}

TEST(Parser, ErrorIsStickyUntilReset) {
  parser p;
  frame f;
  std::string_view bad = "BAD\n";
  ASSERT_EQ(p.feed(bad, f), parse_status::error);
  EXPECT_EQ(p.error(), error::unknown_command);
  std::string good = bytes("SEND\n\n\0");
  std::string_view in = good;
  EXPECT_EQ(p.feed(in, f), parse_status::error);
  p.reset();
  EXPECT_FALSE(p.error());
  EXPECT_EQ(p.buffered(), 0u);
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f.command, "SEND");
}

TEST(Parser, ResetForgetsPartialFrame) {
  parser p;
  frame f;
  std::string_view partial = "SEND\ndestination:/q\n\nhalf a bo";
  ASSERT_EQ(p.feed(partial, f), parse_status::need_more);
  EXPECT_GT(p.buffered(), 0u);
  p.reset();
  EXPECT_EQ(p.buffered(), 0u);
  std::string next = bytes("ACK\nid:1\n\n\0");
  std::string_view in = next;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f, (frame{"ACK", {{"id", "1"}}, ""}));
}

TEST(Parser, VersionChangeAppliesToFollowingFrames) {
  std::string input = bytes("CONNECTED\nversion:1.2\n\n\0SEND\na:b\\c\n\n\0");
  std::string_view in = input;
  parser p;
  frame f;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  p.set_version(version::v1_2);
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f.get("a"), "b:");
}

TEST(Parser, OutIsOverwrittenAndReusable) {
  parser p;
  frame f{"OLD", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, "old body"};
  std::string input = bytes("SEND\nx:1\n\n\0ACK\n\n\0");
  std::string_view in = input;
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f, (frame{"SEND", {{"x", "1"}}, ""}));
  ASSERT_EQ(p.feed(in, f), parse_status::frame);
  EXPECT_EQ(f, (frame{"ACK", {}, ""}));
}

TEST(Parser, FrameSpanningFeedsWithFreshOutEachTime) {
  // A caller may use a new frame object per feed: the partial frame lives in the parser.
  parser p;
  std::string_view first = "SEND\ndestination:/q\n\nhel";
  std::string_view second("lo\0", 3);
  frame f1;
  ASSERT_EQ(p.feed(first, f1), parse_status::need_more);
  frame f2;
  ASSERT_EQ(p.feed(second, f2), parse_status::frame);
  EXPECT_EQ(f2, (frame{"SEND", {{"destination", "/q"}}, "hello"}));
}

TEST(Parser, BufferedCountsFrameInProgressOnly) {
  parser p;
  frame f;
  std::string_view hb = "\n\r\n";
  ASSERT_EQ(p.feed(hb, f), parse_status::need_more);
  EXPECT_EQ(p.buffered(), 0u);
  std::string_view part = "SEND\nab";
  ASSERT_EQ(p.feed(part, f), parse_status::need_more);
  EXPECT_EQ(p.buffered(), 7u);
  std::string_view body = ":c\n\nxyz";
  ASSERT_EQ(p.feed(body, f), parse_status::need_more);
  EXPECT_EQ(p.buffered(), 14u);
}

TEST(Parser, EmptyInputNeedsMore) {
  parser p;
  frame f;
  std::string_view in;
  EXPECT_EQ(p.feed(in, f), parse_status::need_more);
}

TEST(Parser, PreConnectLimitsAre64KiB) {
  const limits l = pre_connect_limits();
  EXPECT_EQ(l.max_frame, 64u * 1024);
  EXPECT_EQ(l.max_body, 64u * 1024);
  EXPECT_EQ(l.max_headers, limits{}.max_headers);
  EXPECT_EQ(l.max_header_line, limits{}.max_header_line);
  EXPECT_EQ(l.max_command, limits{}.max_command);
}

}  // namespace
}  // namespace stomp::test
