// The verified-credential cache: keyed hash, bounds in entries and age, successes only, and a
// users file reload (a new authenticator behind the chain) starts from an empty cache.
#include "auth/credential_cache.hpp"

#include <gtest/gtest.h>

#include "auth/chain.hpp"
#include "auth/error.hpp"
#include "auth/password.hpp"
#include "auth/users_file.hpp"

namespace {

using namespace std::chrono_literals;

struct manual_clock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  auth::credential_cache::clock fn() {
    return [this] { return now; };
  }
};

const auth::principal alice{"alice", {"user"}, std::nullopt};

TEST(CredentialCache, KeyIsAnHmacUnderAPerCacheSecretNeverThePasscode) {
  auth::credential_cache a;
  auth::credential_cache b;
  const std::string k = a.key("alice", "s3cret-passcode");
  EXPECT_EQ(k.size(), 32u);  // SHA-256
  EXPECT_EQ(k, a.key("alice", "s3cret-passcode"));
  EXPECT_NE(k, b.key("alice", "s3cret-passcode")) << "each cache has its own random secret";
  EXPECT_EQ(k.find("s3cret"), std::string::npos);
  EXPECT_NE(a.key("ab", "c"), a.key("a", "bc")) << "login and passcode are kept apart";
  EXPECT_NE(k, a.key("alice", "s3cret-passcodf"));
}

TEST(CredentialCache, FindsOnlyTheExactPairRemembered) {
  auth::credential_cache cache;
  cache.remember("alice", "pw", alice);
  ASSERT_TRUE(cache.find("alice", "pw"));
  EXPECT_EQ(cache.find("alice", "pw")->name, "alice");
  EXPECT_FALSE(cache.find("alice", "pw2"));
  EXPECT_FALSE(cache.find("bob", "pw"));
}

TEST(CredentialCache, AnEntryExpiresAfterMaxAge) {
  manual_clock clock;
  auth::credential_cache cache({10, 300s}, clock.fn());
  cache.remember("alice", "pw", alice);
  clock.now += 299s;
  EXPECT_TRUE(cache.find("alice", "pw"));
  clock.now += 1s;
  EXPECT_FALSE(cache.find("alice", "pw"));
  EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped when found";
}

TEST(CredentialCache, HoldsAtMostMaxEntriesDroppingTheOldest) {
  auth::credential_cache cache({3, 300s});
  for (int i = 0; i < 5; ++i) cache.remember("user" + std::to_string(i), "pw", alice);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("user0", "pw"));
  EXPECT_FALSE(cache.find("user1", "pw"));
  EXPECT_TRUE(cache.find("user2", "pw"));
  EXPECT_TRUE(cache.find("user4", "pw"));
  cache.remember("user2", "pw", alice);  // again: one entry, now the youngest
  cache.remember("user5", "pw", alice);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("user3", "pw"));
  EXPECT_TRUE(cache.find("user2", "pw"));
}

TEST(CredentialCache, SizeZeroCachesNothing) {
  auth::credential_cache cache({0, 300s});
  cache.remember("alice", "pw", alice);
  EXPECT_FALSE(cache.find("alice", "pw"));
  EXPECT_EQ(cache.size(), 0u);
}

auth::user_record record(const std::string& name, const std::string& pw) {
  return {name, auth::hash_password(pw, auth::min_pbkdf2_iterations), {"user"}};
}

auth::credentials creds(const std::string& login, const std::string& pw) {
  return {login, pw, "", "127.0.0.1:1"};
}

TEST(UsersFileCache, ASuccessIsCachedAFailureNever) {
  auth::users_file_authenticator users({record("alice", "alice-pw")});
  std::error_code ec;
  EXPECT_TRUE(users.slow(creds("alice", "alice-pw")));
  EXPECT_TRUE(users.authenticate(creds("alice", "alice-pw"), ec));
  EXPECT_FALSE(users.slow(creds("alice", "alice-pw"))) << "answered from the cache now";
  EXPECT_FALSE(users.authenticate(creds("alice", "wrong"), ec));
  EXPECT_EQ(ec, auth::error::bad_password);
  EXPECT_TRUE(users.slow(creds("alice", "wrong"))) << "a failed check is not cached";
  EXPECT_FALSE(users.authenticate(creds("mallory", "x"), ec));
  EXPECT_TRUE(users.slow(creds("mallory", "x")));
  EXPECT_FALSE(users.slow(creds("", ""))) << "refused at once: no hash to compute";
}

TEST(UsersFileCache, ExpiredEntryMeansTheHashIsCheckedAgain) {
  manual_clock clock;
  auth::users_file_authenticator users({record("alice", "alice-pw")}, {10, 60s}, clock.fn());
  std::error_code ec;
  ASSERT_TRUE(users.authenticate(creds("alice", "alice-pw"), ec));
  EXPECT_FALSE(users.slow(creds("alice", "alice-pw")));
  clock.now += 60s;
  EXPECT_TRUE(users.slow(creds("alice", "alice-pw")));
}

TEST(UsersFileCache, ReloadDropsTheCacheAndTheOldPasswordIsRefused) {
  auto before = std::make_shared<auth::users_file_authenticator>(
      std::vector<auth::user_record>{record("alice", "old-pw")});
  auth::chain logins(before, nullptr, 0);
  std::error_code ec;
  ASSERT_TRUE(logins.authenticate(creds("alice", "old-pw"), ec));
  EXPECT_FALSE(logins.slow(creds("alice", "old-pw")));
  logins.replace_users(std::make_shared<auth::users_file_authenticator>(
      std::vector<auth::user_record>{record("alice", "new-pw")}));
  EXPECT_TRUE(logins.slow(creds("alice", "old-pw"))) << "the new users come with no cache";
  EXPECT_FALSE(logins.authenticate(creds("alice", "old-pw"), ec));
  EXPECT_EQ(ec, auth::error::bad_password);
  EXPECT_TRUE(logins.authenticate(creds("alice", "new-pw"), ec));
}

TEST(UsersFileCache, ARateLimitedPeerIsRefusedWithoutAHashSoNotSlow) {
  auth::chain logins(std::make_shared<auth::users_file_authenticator>(
                         std::vector<auth::user_record>{record("alice", "pw")}),
                     nullptr, 1);
  std::error_code ec;
  EXPECT_TRUE(logins.slow(creds("alice", "bad")));
  EXPECT_FALSE(logins.authenticate(creds("alice", "bad"), ec));
  EXPECT_FALSE(logins.slow(creds("alice", "bad"))) << "the limiter answers before any hash";
  EXPECT_FALSE(logins.authenticate(creds("alice", "bad"), ec));
  EXPECT_EQ(ec, auth::error::rate_limited);
}

}  // namespace
