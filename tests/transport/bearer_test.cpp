#include "transport/detail/bearer.hpp"

#include <gtest/gtest.h>

namespace transport::detail {
namespace {

token_sources sources() {
  token_sources s;
  s.target = "/ws";
  s.cookie_name = "stompbox_token";
  return s;
}

TEST(Bearer, ReadsAuthorizationHeaderCaseInsensitiveScheme) {
  auto s = sources();
  s.authorization = "Bearer abc.def";
  EXPECT_EQ(bearer_token(s), "abc.def");
  s.authorization = "bearer  xyz ";
  EXPECT_EQ(bearer_token(s), "xyz");
}

TEST(Bearer, IgnoresOtherSchemes) {
  auto s = sources();
  s.authorization = "Basic Zm9vOmJhcg==";
  EXPECT_EQ(bearer_token(s), "");
  s.authorization = "Bearerabc";
  EXPECT_EQ(bearer_token(s), "");
}

TEST(Bearer, ReadsPercentDecodedQueryParameter) {
  auto s = sources();
  s.target = "/ws?x=1&access_token=a%2Eb%2bc&y=2";
  EXPECT_EQ(bearer_token(s), "a.b+c");
  s.target = "/ws?my_access_token=no";
  EXPECT_EQ(bearer_token(s), "");
}

TEST(Bearer, ReadsNamedCookieFromAnyCookieHeader) {
  auto s = sources();
  s.cookies = {"a=1", "session=2; stompbox_token=tok; other=3"};
  EXPECT_EQ(bearer_token(s), "tok");
  s.cookie_name = "";
  EXPECT_EQ(bearer_token(s), "");
}

TEST(Bearer, HeaderWinsOverQueryWinsOverCookie) {
  auto s = sources();
  s.authorization = "Bearer h";
  s.target = "/ws?access_token=q";
  s.cookies = {"stompbox_token=c"};
  EXPECT_EQ(bearer_token(s), "h");
  s.authorization = "";
  EXPECT_EQ(bearer_token(s), "q");
  s.target = "/ws";
  EXPECT_EQ(bearer_token(s), "c");
}

TEST(Bearer, TargetPathDropsQuery) {
  EXPECT_EQ(target_path("/ws?a=b"), "/ws");
  EXPECT_EQ(target_path("/"), "/");
}

TEST(Bearer, PercentDecodeKeepsBadEscapes) {
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b%20c"), "a b c");
}

}  // namespace
}  // namespace transport::detail
