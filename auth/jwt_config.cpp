// The `[jwt]` table: see jwt.hpp for every key.
#include <stdexcept>

#include "auth/detail/toml_reader.hpp"
#include "auth/jwt.hpp"

namespace auth {
namespace {

std::string read_relative(const std::string& name, const std::filesystem::path& base_dir) {
  std::filesystem::path path(name);
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  return detail::read_file(path.string());
}

/// Secrets in files usually end with the editor's newline, which is not part of the key.
std::string strip_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

void read_keys(const toml::table& t, const std::string& where,
               const std::filesystem::path& base_dir, jwt_config& config) {
  const auto secret = detail::optional_string(t, "secret", where);
  const auto secret_file = detail::optional_string(t, "secret_file", where);
  if (secret && secret_file) throw std::runtime_error(where + ": give secret or secret_file");
  if (secret) config.hmac_secret = *secret;
  if (secret_file) config.hmac_secret = strip_newline(read_relative(*secret_file, base_dir));

  const auto key = detail::optional_string(t, "public_key", where);
  const auto key_file = detail::optional_string(t, "public_key_file", where);
  if (key && key_file) {
    throw std::runtime_error(where + ": give public_key or public_key_file");
  }
  if (key) config.public_key_pem = *key;
  if (key_file) config.public_key_pem = read_relative(*key_file, base_dir);
  if (config.hmac_secret.empty() && config.public_key_pem.empty()) {
    throw std::runtime_error(where + ": needs a secret or a public key");
  }
}

}  // namespace

std::optional<jwt_config> parse_jwt_config(std::string_view toml_text, const std::string& source,
                                           const std::filesystem::path& base_dir) {
  const auto doc = detail::parse_toml(toml_text, source);
  const auto* node = doc.get("jwt");
  if (node == nullptr) return std::nullopt;
  const std::string where = source + ": [jwt]";
  const auto* t = node->as_table();
  if (t == nullptr) throw std::runtime_error(where + " must be a table");
  detail::check_keys(
      *t,
      {"algorithms", "secret", "secret_file", "public_key", "public_key_file", "issuer", "audience",
       "leeway_seconds", "user_claim", "roles_claim", "require_exp", "max_token_bytes"},
      where);
  jwt_config config;
  config.algorithms =
      detail::optional_string_list(*t, "algorithms", where).value_or(std::vector<std::string>{});
  read_keys(*t, where, base_dir, config);
  config.issuer = detail::optional_string(*t, "issuer", where).value_or("");
  config.audience = detail::optional_string(*t, "audience", where).value_or("");
  config.leeway =
      std::chrono::seconds{detail::integer_or(*t, "leeway_seconds", 30, 0, 3600, where)};
  config.user_claim = detail::optional_string(*t, "user_claim", where).value_or("sub");
  config.roles_claim = detail::optional_string(*t, "roles_claim", where).value_or("roles");
  if (config.user_claim.empty() || config.roles_claim.empty()) {
    throw std::runtime_error(where + ": claim names must not be empty");
  }
  config.require_expiry = detail::boolean_or(*t, "require_exp", true, where);
  config.max_token_bytes = static_cast<std::size_t>(
      detail::integer_or(*t, "max_token_bytes", 8192, 256, 1 << 20, where));
  return config;
}

std::optional<jwt_config> load_jwt_config(const std::filesystem::path& file) {
  return parse_jwt_config(detail::read_file(file.string()), file.string(), file.parent_path());
}

}  // namespace auth
