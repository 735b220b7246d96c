#include "auth/config.hpp"

#include <stdexcept>

#include "auth/detail/toml_reader.hpp"

namespace auth {

auth_settings parse_auth_settings(std::string_view toml_text, const std::string& source,
                                  const std::filesystem::path& base_dir) {
  const auto doc = detail::parse_toml(toml_text, source);
  auth_settings settings;
  const auto* node = doc.get("auth");
  if (node == nullptr) return settings;
  const std::string where = source + ": [auth]";
  const auto* t = node->as_table();
  if (t == nullptr) throw std::runtime_error(where + " must be a table");
  detail::check_keys(*t,
                     {"users_file", "failed_logins_per_minute", "verify_threads", "verify_queue",
                      "credential_cache_size", "credential_cache_seconds"},
                     where);
  if (const auto file = detail::optional_string(*t, "users_file", where)) {
    settings.users_file = *file;
    if (settings.users_file.is_relative() && !base_dir.empty()) {
      settings.users_file = base_dir / settings.users_file;
    }
  }
  settings.failed_logins_per_minute = static_cast<unsigned>(
      detail::integer_or(*t, "failed_logins_per_minute", 10, 0, 1'000'000, where));
  settings.verify_threads =
      static_cast<std::size_t>(detail::integer_or(*t, "verify_threads", 1, 1, 64, where));
  settings.verify_queue =
      static_cast<std::size_t>(detail::integer_or(*t, "verify_queue", 1000, 1, 1'000'000, where));
  settings.credential_cache.max_entries = static_cast<std::size_t>(
      detail::integer_or(*t, "credential_cache_size", 10'000, 0, 10'000'000, where));
  settings.credential_cache.max_age = std::chrono::seconds{
      detail::integer_or(*t, "credential_cache_seconds", 300, 1, 86'400, where)};
  return settings;
}

auth_settings load_auth_settings(const std::filesystem::path& file) {
  return parse_auth_settings(detail::read_file(file.string()), file.string(), file.parent_path());
}

std::shared_ptr<chain> make_authenticator(std::optional<std::vector<user_record>> users,
                                          std::optional<jwt_config> jwt,
                                          unsigned failed_logins_per_minute,
                                          credential_cache_limits cache) {
  if (!users && !jwt) return nullptr;
  std::shared_ptr<const authenticator> by_password;
  std::shared_ptr<const authenticator> by_token;
  if (users) by_password = std::make_shared<users_file_authenticator>(std::move(*users), cache);
  if (jwt) by_token = std::make_shared<jwt_authenticator>(std::move(*jwt));
  return std::make_shared<chain>(std::move(by_password), std::move(by_token),
                                 failed_logins_per_minute);
}

}  // namespace auth
