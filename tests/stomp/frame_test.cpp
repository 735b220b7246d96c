#include "stomp/frame.hpp"

#include <gtest/gtest.h>

namespace stomp {
namespace {

TEST(Frame, GetReturnsFirstOfRepeated) {
  frame f{"SEND", {{"a", "1"}, {"b", "2"}, {"a", "3"}}, ""};
  EXPECT_EQ(f.get("a"), "1");
  EXPECT_EQ(f.get("c"), std::nullopt);
  EXPECT_TRUE(f.has("b"));
  EXPECT_FALSE(f.has("A"));  // names are case-sensitive
}

TEST(Frame, SetReplacesFirstOrAppends) {
  frame f{"SEND", {{"a", "1"}, {"a", "3"}}, ""};
  f.set("a", "x");
  f.set("b", "y");
  EXPECT_EQ(f.headers, (std::vector<header>{{"a", "x"}, {"a", "3"}, {"b", "y"}}));
}

TEST(Frame, AddAlwaysAppends) {
  frame f;
  f.add("a", "1");
  f.add("a", "2");
  EXPECT_EQ(f.headers.size(), 2u);
  EXPECT_EQ(f.get("a"), "1");
}

TEST(Frame, EraseRemovesEveryOccurrence) {
  frame f{"SEND", {{"a", "1"}, {"b", "2"}, {"a", "3"}}, ""};
  f.erase("a");
  EXPECT_EQ(f.headers, (std::vector<header>{{"b", "2"}}));
  f.erase("missing");
  EXPECT_EQ(f.headers.size(), 1u);
}

}  // namespace
}  // namespace stomp
