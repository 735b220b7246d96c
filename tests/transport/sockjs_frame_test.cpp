// SockJS framing units: escaping, client JSON, routes (transport/sockjs/sockjs_frame).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "transport/sockjs/sockjs_frame.hpp"

namespace {

using namespace transport::detail;
using namespace std::string_literals;

std::string json_quoted(std::string_view s) {
  std::string out;
  append_sockjs_string(out, s);
  return out;
}

TEST(SockjsFrame, EscapesJsonSpecialsAndControls) {
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted(std::string("C\n\r\t\0x", 6)), R"("C\n\r\t\u0000x")");
  EXPECT_EQ(json_quoted("\x1f"), R"("\u001f")");
  EXPECT_EQ(json_quoted("/ <tag> ~"), R"("/ <tag> ~")");
}

TEST(SockjsFrame, EscapesTheProtocolsUnicodeRanges) {
  EXPECT_EQ(json_quoted("\u200c\u200f\u2028\u202f\u2060\u206f\ufff0\uffff"),
            R"("\u200c\u200f\u2028\u202f\u2060\u206f\ufff0\uffff")");
  // Just outside every range: sent as UTF-8.
  EXPECT_EQ(json_quoted("\u200b\u2010\u2027\u2030\u205f\u2070\uffef"),
            "\"\u200b\u2010\u2027\u2030\u205f\u2070\uffef\"");
  EXPECT_EQ(json_quoted("h\u00e9llo \u20ac"), "\"h\u00e9llo \u20ac\"");
}

TEST(SockjsFrame, AstralCodePointsBecomeEscapedSurrogatePairs) {
  EXPECT_EQ(json_quoted("\U0001F600"), R"("\ud83d\ude00")");
  EXPECT_EQ(json_quoted("\U0010FFFF"), R"("\udbff\udfff")");
}

TEST(SockjsFrame, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(json_quoted("a\xff" "b"), R"("a\ufffdb")");
  EXPECT_EQ(json_quoted("\xc3"), R"("\ufffd")");                  // truncated sequence
  EXPECT_EQ(json_quoted("\xc0\xaf"), R"("\ufffd\ufffd")");        // overlong '/'
  EXPECT_EQ(json_quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a UTF-8 encoded surrogate
}

TEST(SockjsFrame, MessageFrameJoinsHeadAndSharedTail) {
  broker::outgoing f{"MESSAGE\nsubscription:0\n", std::make_shared<const std::string>(
                                                      "destination:/topic/x\n\n\u00e9\"\0"s)};
  EXPECT_EQ(sockjs_message_frame(f),
            "a[\"MESSAGE\\nsubscription:0\\ndestination:/topic/x\\n\\n\u00e9\\\"\\u0000\"]");
  // A head ending inside a character is joined to its tail before escaping.
  broker::outgoing split{"x\xc3", std::make_shared<const std::string>("\xa9")};
  EXPECT_EQ(sockjs_message_frame(split), "a[\"x\u00e9\"]");
}

TEST(SockjsFrame, CloseFrames) {
  EXPECT_EQ(sockjs_close_frame(3000, "Go away!"), R"(c[3000,"Go away!"])");
  EXPECT_EQ(sockjs_close_frame(broker::close_reason::normal), R"(c[3000,"Go away!"])");
  EXPECT_EQ(sockjs_close_frame(broker::close_reason::protocol_error),
            R"(c[1002,"protocol_error"])");
  EXPECT_EQ(sockjs_close_frame(broker::close_reason::shutdown), R"(c[1001,"shutdown"])");
}

TEST(SockjsFrame, ParsesClientArraysAndSingleStrings) {
  std::vector<std::string> out;
  ASSERT_TRUE(parse_sockjs_messages(R"( [ "a" , "b\n\u0000" ,"" ] )", out));
  EXPECT_EQ(out, (std::vector<std::string>{"a", std::string("b\n\0", 3), ""}));
  out.clear();
  ASSERT_TRUE(parse_sockjs_messages(R"("x\"\\\/\b\f\r\t")", out));
  EXPECT_EQ(out, (std::vector<std::string>{"x\"\\/\b\f\r\t"}));
  out.clear();
  ASSERT_TRUE(parse_sockjs_messages("[]", out));
  EXPECT_TRUE(out.empty());
}

TEST(SockjsFrame, ParsesUnicodeEscapesToUtf8) {
  std::vector<std::string> out;
  ASSERT_TRUE(parse_sockjs_messages(R"(["\u00e9\u20AC\ud83d\ude00", "\ud83d", "\ude00x"])", out));
  EXPECT_EQ(out, (std::vector<std::string>{"\u00e9\u20ac\U0001F600", "\ufffd", "\ufffdx"}));
  out.clear();
  ASSERT_TRUE(parse_sockjs_messages("[\"caf\u00e9\"]", out));  // raw UTF-8 passes through
  EXPECT_EQ(out, (std::vector<std::string>{"caf\u00e9"}));
}

TEST(SockjsFrame, RoundTripsWhatItEscapes) {
  const std::string text = "CONNECT\nlogin:\u00e9\u2028\U0001F600\n\n\"\\\x01\0"s;
  std::string json = "[";
  append_sockjs_string(json, text);
  json += "]";
  std::vector<std::string> out;
  ASSERT_TRUE(parse_sockjs_messages(json, out));
  EXPECT_EQ(out, (std::vector<std::string>{text}));
}

TEST(SockjsFrame, RejectsWhatIsNotAnArrayOfStrings) {
  for (std::string_view bad : {"", "[", "[\"a\"", "[\"a\",]", "[1]", "{\"a\":1}", "\"a", "[\"a\"]x",
                               "[\"\\x\"]", "[\"\\u12\"]", "[\"a\nb\"]", "[\"a\"][\"b\"]", "null"}) {
    std::vector<std::string> out;
    EXPECT_FALSE(parse_sockjs_messages(bad, out)) << bad;
  }
}

TEST(SockjsFrame, InfoJson) {
  EXPECT_EQ(sockjs_info_json(true, false, 42),
            R"({"websocket":true,"cookie_needed":false,"origins":["*:*"],"entropy":42})");
}

TEST(SockjsRoute, SplitsPathsUnderThePrefix) {
  using kind = sockjs_route::kind;
  EXPECT_EQ(parse_sockjs_route("/ws", "/sockjs").what, kind::none);
  EXPECT_EQ(parse_sockjs_route("/sockjsx", "/sockjs").what, kind::none);
  EXPECT_EQ(parse_sockjs_route("/sockjs", "/sockjs").what, kind::welcome);
  EXPECT_EQ(parse_sockjs_route("/sockjs/", "/sockjs").what, kind::welcome);
  EXPECT_EQ(parse_sockjs_route("/sockjs/info", "/sockjs").what, kind::info);
  EXPECT_EQ(parse_sockjs_route("/sockjs/websocket", "/sockjs").what, kind::raw_websocket);
  const auto r = parse_sockjs_route("/sockjs/123/abc-d/xhr_send", "/sockjs");
  EXPECT_EQ(r.what, kind::session);
  EXPECT_EQ(r.server, "123");
  EXPECT_EQ(r.session, "abc-d");
  EXPECT_EQ(r.transport, "xhr_send");
  for (std::string_view bad : {"/sockjs/iframe.html", "/sockjs/a/b", "/sockjs/a/b/c/d",
                               "/sockjs/a.b/c/xhr", "/sockjs/a/c.d/xhr", "/sockjs//c/xhr",
                               "/sockjs/a//xhr", "/sockjs/a/b/", "/sockjs/a/b/c/"}) {
    EXPECT_EQ(parse_sockjs_route(bad, "/sockjs").what, kind::not_found) << bad;
  }
}

}  // namespace
