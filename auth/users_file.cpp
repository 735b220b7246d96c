#include "auth/users_file.hpp"

#include <stdexcept>

#include "auth/detail/toml_reader.hpp"
#include "auth/error.hpp"
#include "auth/password.hpp"

namespace auth {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/') return false;  // names become destination segments
  }
  return true;
}

user_record parse_user(const toml::table& table, const std::string& where) {
  detail::check_keys(table, {"name", "password", "roles"}, where);
  user_record user;
  user.name = detail::required_string(table, "name", where);
  if (!valid_name(user.name)) {
    throw std::runtime_error(where + ": name must not contain `/` or control characters");
  }
  const std::string named = where + " (" + user.name + ")";
  user.password_hash = detail::required_string(table, "password", named);
  if (!is_valid_hash(user.password_hash)) {
    throw std::runtime_error(named +
                             ": password is not a `$pbkdf2-sha256$i=N$salt$hash` string "
                             "(make one with `stompbox passwd`)");
  }
  user.roles =
      detail::optional_string_list(table, "roles", named).value_or(std::vector<std::string>{});
  return user;
}

/// Same cost as a real user's hash, derived from nothing anyone knows.
std::string make_decoy(const std::vector<user_record>& users) {
  std::string_view model = users.empty() ? std::string_view{} : users.front().password_hash;
  constexpr std::string_view prefix = "$pbkdf2-sha256$i=";
  std::string iterations = std::to_string(default_pbkdf2_iterations);
  if (model.starts_with(prefix)) {
    model.remove_prefix(prefix.size());
    iterations = std::string(model.substr(0, model.find('$')));
  }
  return std::string(prefix) + iterations + "$AAAAAAAAAAAAAAAAAAAAAA$" + std::string(43, 'A');
}

}  // namespace

std::vector<user_record> parse_users(std::string_view toml_text, const std::string& source) {
  const auto doc = detail::parse_toml(toml_text, source);
  detail::check_keys(doc, {"user"}, source);
  std::vector<user_record> users;
  std::map<std::string, std::size_t, std::less<>> seen;
  const auto tables = detail::tables_of(doc.get("user"), source + ": [[user]]");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    auto user = parse_user(*tables[i], source + ": [[user]] #" + std::to_string(i + 1));
    if (const auto it = seen.find(user.name); it != seen.end()) {
      throw std::runtime_error(source + ": user `" + user.name + "` defined twice (entries #" +
                               std::to_string(it->second) + " and #" + std::to_string(i + 1) + ")");
    }
    seen.emplace(user.name, i + 1);
    users.push_back(std::move(user));
  }
  return users;
}

std::vector<user_record> load_users(const std::filesystem::path& file) {
  return parse_users(detail::read_file(file.string()), file.string());
}

users_file_authenticator::users_file_authenticator(std::vector<user_record> users,
                                                   credential_cache_limits cache,
                                                   credential_cache::clock now)
    : decoy_hash_(make_decoy(users)), verified_(cache, std::move(now)) {
  for (auto& user : users) {
    auto name = user.name;
    if (!users_.emplace(std::move(name), std::move(user)).second) {
      throw std::invalid_argument("duplicate user name in users file");
    }
  }
}

std::optional<principal> users_file_authenticator::authenticate(const credentials& creds,
                                                                std::error_code& ec) const {
  if (creds.login.empty()) {
    ec = error::missing_credentials;
    return std::nullopt;
  }
  if (auto cached = verified_.find(creds.login, creds.passcode)) {
    ec.clear();
    return cached;
  }
  const auto it = users_.find(creds.login);
  if (it == users_.end()) {
    verify_password(creds.passcode, decoy_hash_);  // spend the same time as a real check
    ec = error::unknown_user;
    return std::nullopt;
  }
  if (!verify_password(creds.passcode, it->second.password_hash, ec)) return std::nullopt;
  principal who{it->second.name, it->second.roles, std::nullopt};
  verified_.remember(creds.login, creds.passcode, who);
  return who;
}

bool users_file_authenticator::slow(const credentials& creds) const {
  return !creds.login.empty() && !verified_.find(creds.login, creds.passcode);
}

}  // namespace auth
