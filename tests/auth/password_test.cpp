#include "auth/password.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "auth/error.hpp"

namespace {

// Few iterations keep the suite fast; the format and the checks are the same.
constexpr unsigned fast = auth::min_pbkdf2_iterations;

TEST(Password, HashThenVerifyRoundTrips) {
  const auto hash = auth::hash_password("correct horse", fast);
  std::error_code ec;
  EXPECT_TRUE(auth::verify_password("correct horse", hash, ec));
  EXPECT_FALSE(ec);
}

TEST(Password, DefaultHashUsesDocumentedFormatAndIterations) {
  const auto hash = auth::hash_password("pw");
  EXPECT_TRUE(hash.starts_with("$pbkdf2-sha256$i=600000$")) << hash;
  EXPECT_TRUE(auth::is_valid_hash(hash));
  EXPECT_TRUE(auth::verify_password("pw", hash));
}

TEST(Password, WrongPasswordIsRefused) {
  const auto hash = auth::hash_password("secret", fast);
  std::error_code ec;
  EXPECT_FALSE(auth::verify_password("Secret", hash, ec));
  EXPECT_EQ(ec, auth::error::bad_password);
  EXPECT_FALSE(auth::verify_password("", hash));
}

TEST(Password, EachHashHasItsOwnSalt) {
  const auto a = auth::hash_password("same", fast);
  const auto b = auth::hash_password("same", fast);
  EXPECT_NE(a, b);
  EXPECT_TRUE(auth::verify_password("same", a));
  EXPECT_TRUE(auth::verify_password("same", b));
}

TEST(Password, TamperedHashBytesFailToVerify) {
  auto hash = auth::hash_password("secret", fast);
  auto& last = hash[hash.size() - 2];  // inside the hash part, keeps the length canonical
  last = last == 'A' ? 'B' : 'A';
  std::error_code ec;
  EXPECT_FALSE(auth::verify_password("secret", hash, ec));
  EXPECT_EQ(ec, auth::error::bad_password);
}

TEST(Password, TamperedIterationCountFailsToVerify) {
  auto hash = auth::hash_password("secret", 1000);
  hash.replace(hash.find("i=1000"), 6, "i=1001");
  EXPECT_FALSE(auth::verify_password("secret", hash));
}

TEST(Password, MalformedHashesAreReportedAsSuch) {
  const auto good = auth::hash_password("x", fast);
  const std::string salt_and_hash = good.substr(good.find('$', 18));
  for (const std::string& bad :
       {std::string{}, std::string("plain"), "$pbkdf2-sha1$i=1000" + salt_and_hash,
        "$pbkdf2-sha256$i=999" + salt_and_hash, "$pbkdf2-sha256$i=0999" + salt_and_hash,
        "$pbkdf2-sha256$i=99999999999" + salt_and_hash, "$pbkdf2-sha256$i=x" + salt_and_hash,
        "$pbkdf2-sha256$i=1000$c2FsdA$" + std::string(43, 'A'),     // 4-byte salt
        "$pbkdf2-sha256$i=1000$" + std::string(22, 'A') + "$AAAA",  // 3-byte hash
        good + "$", good.substr(0, good.rfind('$'))}) {
    std::error_code ec;
    EXPECT_FALSE(auth::is_valid_hash(bad)) << bad;
    EXPECT_FALSE(auth::verify_password("x", bad, ec)) << bad;
    EXPECT_EQ(ec, auth::error::malformed_hash) << bad;
  }
}

TEST(Password, RefusesToHashWithOutOfRangeIterations) {
  EXPECT_THROW(auth::hash_password("x", 10), std::invalid_argument);
  EXPECT_THROW(auth::hash_password("x", auth::max_pbkdf2_iterations + 1), std::invalid_argument);
}

TEST(Passwd, PrintsAHashOfTheFirstLine) {
  std::istringstream in("hunter2\r\nignored\n");
  std::ostringstream out, err;
  EXPECT_EQ(auth::passwd_main(in, out, err), 0);
  auto line = out.str();
  ASSERT_TRUE(line.ends_with('\n'));
  line.pop_back();
  EXPECT_TRUE(auth::verify_password("hunter2", line));
  EXPECT_FALSE(auth::verify_password("hunter2\r", line));
  EXPECT_TRUE(err.str().empty());
}

TEST(Passwd, EmptyInputIsAnError) {
  std::istringstream in("");
  std::ostringstream out, err;
  EXPECT_EQ(auth::passwd_main(in, out, err), 1);
  EXPECT_TRUE(out.str().empty());
  EXPECT_FALSE(err.str().empty());
}

}  // namespace
