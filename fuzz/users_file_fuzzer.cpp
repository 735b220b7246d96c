// Fuzzes auth::parse_users (the users file, TOML). Its documented error path is a
// std::runtime_error at start-up, so exceptions derived from std::exception are expected and
// caught; anything else escaping (toml++ internals, a non-standard throw) ends the run.
// Aborts when a users file that parsed yields
//  - a user whose name is empty, holds '/' or a control character, or repeats another's;
//  - a password hash that auth::is_valid_hash refuses;
//  - a list users_file_authenticator refuses (it throws on duplicates).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password.hpp"
#include "auth/users_file.hpp"

namespace {

[[noreturn]] void broken(const char* rule, std::string_view name) {
  std::fprintf(stderr, "users_file_fuzzer: %s: \"%.*s\"\n", rule, static_cast<int>(name.size()),
               name.data());
  std::abort();
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/') return false;
  }
  return true;
}

void check_users(const std::vector<auth::user_record>& users) {
  std::set<std::string_view> names;
  for (const auth::user_record& u : users) {
    if (!valid_name(u.name)) broken("invalid user name accepted", u.name);
    if (!names.insert(u.name).second) broken("duplicate user name accepted", u.name);
    if (!auth::is_valid_hash(u.password_hash)) broken("invalid hash accepted", u.password_hash);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<auth::user_record> users;
  try {
    users = auth::parse_users(text, "fuzz");
  } catch (const std::exception&) {
    return 0;  // the start-up error path: a message naming the file and the entry
  }
  check_users(users);
  // No PBKDF2 here (a hash may ask for 10 million iterations): only the constructor's checks.
  const auth::users_file_authenticator authenticator(std::move(users));
  return 0;
}
