#include "stomp/serializer.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/stomp/feed.hpp"

namespace stomp::test {
namespace {

TEST(Serializer, WritesCommandHeadersBlankLineBodyNul) {
  const frame f{"SEND", {{"destination", "/q"}, {"x", "1"}}, "hi"};
  EXPECT_EQ(serialize(f, version::v1_2),
            bytes("SEND\ndestination:/q\nx:1\ncontent-length:2\n\nhi\0"));
}

TEST(Serializer, AppendsToOut) {
  std::string out = "already";
  serialize(frame{"ACK", {{"id", "1"}}, ""}, version::v1_2, out);
  EXPECT_EQ(out, bytes("alreadyACK\nid:1\n\n\0"));
}

TEST(Serializer, ContentLengthReplacedForNonEmptyBody) {
  const frame f{
      "SEND", {{"content-length", "999"}, {"a", "b"}, {"content-length", "x"}}, bytes("\0\0\0")};
  EXPECT_EQ(serialize(f, version::v1_2), bytes("SEND\na:b\ncontent-length:3\n\n\0\0\0\0"));
}

TEST(Serializer, NoContentLengthForEmptyBody) {
  const frame f{"SEND", {{"content-length", "5"}}, ""};
  EXPECT_EQ(serialize(f, version::v1_2), bytes("SEND\n\n\0"));
}

// 1.0 has no escaping: a header a 1.1/1.2 client sent escaped cannot reach a 1.0 client whole.
TEST(Serializer, UnescapedFormLeavesOutHeadersWithLfOrAColonInTheName) {
  const frame f{"MESSAGE", {{"a\nb", "1"}, {"c:d", "2"}, {"e", "3\n4"}, {"f", "5:6"}}, ""};
  EXPECT_EQ(serialize(f, version::v1_0), bytes("MESSAGE\nf:5:6\n\n\0"));
  EXPECT_EQ(serialize(f, version::v1_2),
            bytes("MESSAGE\na\\nb:1\nc\\cd:2\ne:3\\n4\nf:5\\c6\n\n\0"));
}

TEST(Serializer, BodyWithNulParsesBack) {
  const frame f{"MESSAGE", {{"destination", "/q"}}, bytes("a\0b\0")};
  frame expected = f;
  expected.add("content-length", "4");
  EXPECT_EQ(parse_one(serialize(f, version::v1_0), version::v1_0), expected);
}

TEST(Utf8, ValidAndInvalid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_utf8(bytes("nul \0 is valid")));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(
      is_valid_utf8("a\x80"
                    "b"));  // lone continuation
}

TEST(Utf8, EveryPositionAfterAsciiRunsIsChecked) {
  // The ASCII fast path takes 8 bytes at a time: a bad byte at any offset, and a sequence
  // straddling a block, must still be seen.
  for (std::size_t at = 0; at < 20; ++at) {
    std::string s(24, 'a');
    s[at] = '\xff';
    EXPECT_FALSE(is_valid_utf8(s)) << at;
    std::string euro(24, 'a');
    euro.replace(at, 3, "\xe2\x82\xac");
    EXPECT_TRUE(is_valid_utf8(euro)) << at;
    euro.resize(at + 2);  // cut inside the sequence
    EXPECT_FALSE(is_valid_utf8(euro)) << at;
  }
}

frame sample_common() {
  return frame{"IGNORED",
               {{"destination", "/topic/a:b"}, {"message-id", "m\\1"}, {"x", "line\nbreak"}},
               bytes("payload\0with nul")};
}

TEST(SharedMessage, HeadPlusTailEqualsWholeSerialization) {
  const shared_message m(sample_common());
  for (version v : {version::v1_0, version::v1_1, version::v1_2}) {
    for (std::string_view ack : {"", "ack:7"}) {
      std::string wire;
      message_head("sub-0", ack, v, wire);
      wire += m.tail(v);

      frame whole = sample_common();
      whole.command = "MESSAGE";
      std::vector<header> first{{"subscription", "sub-0"}};
      if (!ack.empty()) first.push_back({"ack", std::string(ack)});
      whole.headers.insert(whole.headers.begin(), first.begin(), first.end());
      EXPECT_EQ(wire, serialize(whole, v)) << to_string(v);
      if (v != version::v1_0) {  // 1.0 cannot carry the '\n' in header x
        whole.add("content-length", std::to_string(whole.body.size()));
        EXPECT_EQ(parse_one(wire, v), whole) << to_string(v);
      }
    }
  }
}

TEST(SharedMessage, TailBuiltOncePerVersion) {
  const shared_message m(sample_common());
  const std::string* first = &m.tail(version::v1_2);
  EXPECT_EQ(&m.tail(version::v1_2), first);
  EXPECT_NE(m.tail(version::v1_0), m.tail(version::v1_2));  // ":" is escaped in 1.2 only
  EXPECT_TRUE(m.tail_is_utf8(version::v1_2));
  EXPECT_EQ(m.common().headers.size(), 3u);
}

TEST(SharedMessage, TailUtf8Flag) {
  const shared_message m(frame{"MESSAGE", {{"destination", "/q"}}, "\xff\xfe"});
  EXPECT_FALSE(m.tail_is_utf8(version::v1_2));
}

TEST(SharedMessage, ConcurrentFirstUseIsSafe) {
  const shared_message m(sample_common());
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = &m.tail(version::v1_2); });
  }
  for (auto& t : threads) t.join();
  for (const std::string* p : seen) EXPECT_EQ(p, seen[0]);
  std::string expected;
  frame tail_only = sample_common();
  tail_only.command = "MESSAGE";
  serialize(tail_only, version::v1_2, expected);
  EXPECT_EQ("MESSAGE\n" + *seen[0], expected);
}

}  // namespace
}  // namespace stomp::test
