#include "auth/detail/base64.hpp"

#include <gtest/gtest.h>

namespace {

using auth::detail::base64_alphabet;
using auth::detail::base64_decode;
using auth::detail::base64_encode;

TEST(Base64, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64_encode("", base64_alphabet::standard), "");
  EXPECT_EQ(base64_encode("f", base64_alphabet::standard), "Zg");
  EXPECT_EQ(base64_encode("fo", base64_alphabet::standard), "Zm8");
  EXPECT_EQ(base64_encode("foo", base64_alphabet::standard), "Zm9v");
  EXPECT_EQ(base64_encode("foobar", base64_alphabet::standard), "Zm9vYmFy");
}

TEST(Base64, UrlAlphabetUsesDashAndUnderscore) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64_encode(bytes, base64_alphabet::standard), "+/+/");
  EXPECT_EQ(base64_encode(bytes, base64_alphabet::url), "-_-_");
  EXPECT_EQ(base64_decode("-_-_", base64_alphabet::url), bytes);
  EXPECT_FALSE(base64_decode("+/+/", base64_alphabet::url));
}

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    for (auto alphabet : {base64_alphabet::standard, base64_alphabet::url}) {
      EXPECT_EQ(base64_decode(base64_encode(bytes, alphabet), alphabet), bytes);
    }
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64, RefusesImpossibleLengthsAndNonCanonicalBits) {
  EXPECT_FALSE(base64_decode("Zm9vY", base64_alphabet::standard));  // 4n+1 characters
  EXPECT_FALSE(base64_decode("Zh", base64_alphabet::standard));     // "Zg" with stray bits
  EXPECT_FALSE(base64_decode("Zg=", base64_alphabet::url));         // padding in base64url
  EXPECT_EQ(base64_decode("Zg==", base64_alphabet::standard), "f");
}

}  // namespace
