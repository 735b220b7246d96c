#include "auth/users_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/error.hpp"
#include "auth/password.hpp"

namespace {

const std::string alice_hash = auth::hash_password("alice-pw", auth::min_pbkdf2_iterations);
const std::string bob_hash = auth::hash_password("bob-pw", auth::min_pbkdf2_iterations);

std::string two_users() {
  return "[[user]]\nname = \"alice\"\npassword = \"" + alice_hash +
         "\"\nroles = [\"user\", \"publisher\"]\n\n[[user]]\nname = \"bob\"\npassword = \"" +
         bob_hash + "\"\n";
}

/// The message of the runtime_error parse_users throws, or "" when it does not throw.
std::string parse_error(const std::string& text) {
  try {
    auth::parse_users(text, "users.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(UsersFile, ParsesUsersWithRoles) {
  const auto users = auth::parse_users(two_users());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_EQ(users[0].password_hash, alice_hash);
  EXPECT_EQ(users[0].roles, (std::vector<std::string>{"user", "publisher"}));
  EXPECT_EQ(users[1].name, "bob");
  EXPECT_TRUE(users[1].roles.empty());
}

TEST(UsersFile, EmptyDocumentHasNoUsers) { EXPECT_TRUE(auth::parse_users("").empty()); }

TEST(UsersFile, LoadsFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "stompbox_auth_users_test.toml";
  std::ofstream(path) << two_users();
  EXPECT_EQ(auth::load_users(path).size(), 2u);
  std::filesystem::remove(path);
  EXPECT_THROW(auth::load_users(path), std::runtime_error);
}

TEST(UsersFile, DuplicateNamesAreAStartUpError) {
  const auto text = two_users() + "[[user]]\nname = \"alice\"\npassword = \"" + bob_hash + "\"\n";
  const auto msg = parse_error(text);
  EXPECT_NE(msg.find("alice"), std::string::npos) << msg;
  EXPECT_NE(msg.find("twice"), std::string::npos) << msg;
}

TEST(UsersFile, BadEntriesNameTheProblem) {
  const std::string pw = "password = \"" + alice_hash + "\"\n";
  const struct {
    std::string text;
    std::string expected;
  } cases[] = {
      {"[[user]]\nname = \"carol\"\npassword = \"plaintext\"\n", "stompbox passwd"},
      {"[[user]]\n" + pw, "`name` is required"},
      {"[[user]]\nname = \"\"\n" + pw, "must not be empty"},
      {"[[user]]\nname = \"a/b\"\n" + pw, "must not contain"},
      {"[[user]]\nname = \"carol\"\n", "`password` is required"},
      {"[[user]]\nname = \"carol\"\npasswd = \"x\"\n", "`passwd` is not a known key"},
      {"[[user]]\nname = \"carol\"\n" + pw + "roles = [1]\n", "only strings"},
      {"[[user]]\nname = 42\n" + pw, "must be a string"},
      {"user = 3\n", "array of tables"},
      {"[[user]\n", "users.toml:1"},
  };
  for (const auto& c : cases) {
    const auto msg = parse_error(c.text);
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.text << " -> " << msg;
    EXPECT_NE(msg.find("users.toml"), std::string::npos) << msg;
  }
}

TEST(UsersFileAuthenticator, AcceptsTheRightPassword) {
  const auth::users_file_authenticator users(auth::parse_users(two_users()));
  std::error_code ec;
  const auto who = users.authenticate({"alice", "alice-pw", "", "1.2.3.4:5"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "alice");
  EXPECT_TRUE(who->has_role("publisher"));
  EXPECT_FALSE(who->has_role("admin"));
  EXPECT_FALSE(who->expires);
}

TEST(UsersFileAuthenticator, RefusesWrongPasswordUnknownUserAndMissingLogin) {
  const auth::users_file_authenticator users(auth::parse_users(two_users()));
  std::error_code ec;
  EXPECT_FALSE(users.authenticate({"alice", "bob-pw", "", ""}, ec));
  EXPECT_EQ(ec, auth::error::bad_password);
  EXPECT_FALSE(users.authenticate({"mallory", "alice-pw", "", ""}, ec));
  EXPECT_EQ(ec, auth::error::unknown_user);
  EXPECT_FALSE(users.authenticate({"", "alice-pw", "", ""}, ec));
  EXPECT_EQ(ec, auth::error::missing_credentials);
  EXPECT_EQ(ec.category().name(), std::string("auth"));
}

TEST(UsersFileAuthenticator, DuplicateNamesAreRefusedAtConstruction) {
  std::vector<auth::user_record> users{{"a", alice_hash, {}}, {"a", bob_hash, {}}};
  EXPECT_THROW(auth::users_file_authenticator{users}, std::invalid_argument);
}

}  // namespace
