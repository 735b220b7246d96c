#include "auth/jwt.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>

#include "auth/detail/base64.hpp"
#include "auth/detail/jws_verifier.hpp"
#include "auth/error.hpp"

namespace auth {
namespace {

namespace json = boost::json;
using time_point = std::chrono::system_clock::time_point;

// NumericDate is seconds since the epoch (RFC 7519 §2); clamp to +-9e9 s (years 1684..2255) so
// absurd values cannot overflow time_point arithmetic: system_clock counts 64-bit nanoseconds.
constexpr double max_numeric_date = 9'000'000'000.0;

struct compact_token {
  std::string_view header;  ///< base64url
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  ///< "header.payload", what was signed
};

std::optional<compact_token> split(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return compact_token{token.substr(0, first), token.substr(first + 1, second - first - 1),
                       token.substr(second + 1), token.substr(0, second)};
}

/// A base64url part holding a JSON object, or nullptr.
std::optional<json::object> decode_object(std::string_view part) {
  const auto bytes = detail::base64_decode(part, detail::base64_alphabet::url);
  if (!bytes) return std::nullopt;
  json::error_code ec;
  auto value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

/// A claim by name; when absent and the name has dots, walks nested objects
/// (`realm_access.roles` as Keycloak issues it).
const json::value* find_claim(const json::object& claims, std::string_view name) {
  if (const auto* direct = claims.if_contains(name)) return direct;
  const json::object* scope = &claims;
  while (true) {
    const auto dot = name.find('.');
    const auto* value = scope->if_contains(name.substr(0, dot));
    if (value == nullptr || dot == std::string_view::npos) return value;
    scope = value->if_object();
    if (scope == nullptr) return nullptr;
    name.remove_prefix(dot + 1);
  }
}

/// A NumericDate claim: nullopt when absent, `bad` set when present but not a number.
std::optional<time_point> numeric_date(const json::object& claims, std::string_view name,
                                       bool& bad) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    bad = true;
    return std::nullopt;
  }
  json::error_code ec;
  double seconds = value->to_number<double>(ec);
  if (ec || std::isnan(seconds)) {
    bad = true;
    return std::nullopt;
  }
  seconds = std::clamp(seconds, -max_numeric_date, max_numeric_date);
  return time_point{} + std::chrono::seconds{static_cast<long long>(seconds)};
}

bool audience_matches(const json::value* aud, std::string_view wanted) {
  if (aud == nullptr) return false;
  if (const auto* one = aud->if_string()) return *one == wanted;
  if (const auto* many = aud->if_array()) {
    for (const auto& entry : *many) {
      if (const auto* s = entry.if_string(); s != nullptr && *s == wanted) return true;
    }
  }
  return false;
}

/// Names end up as a `/user/{name}/...` segment: refuse anything that would not be one.
bool usable_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/') return false;
  }
  return true;
}

std::optional<std::vector<std::string>> roles_of(const json::value* claim) {
  std::vector<std::string> roles;
  if (claim == nullptr) return roles;
  if (const auto* text = claim->if_string()) {  // OAuth `scope` style: "a b c"
    std::string_view rest = *text;
    while (!rest.empty()) {
      const auto space = rest.find(' ');
      if (space != 0) roles.emplace_back(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    return roles;
  }
  const auto* array = claim->if_array();
  if (array == nullptr) return std::nullopt;
  for (const auto& entry : *array) {
    const auto* role = entry.if_string();
    if (role == nullptr) return std::nullopt;
    roles.emplace_back(*role);
  }
  return roles;
}

/// The claims of a token whose header and signature pass, or std::nullopt with `ec` set.
std::optional<json::object> verified_claims(std::string_view token, std::size_t max_bytes,
                                            const detail::jws_verifier& verifier,
                                            std::error_code& ec) {
  auto refuse = [&ec](error e) {
    ec = e;
    return std::optional<json::object>{};
  };
  if (token.size() > max_bytes) return refuse(error::token_too_large);
  const auto parts = split(token);
  if (!parts) return refuse(error::token_malformed);
  const auto header = decode_object(parts->header);
  if (!header) return refuse(error::token_malformed);
  const auto* alg = header->if_contains("alg");
  // RFC 7515 §4.1.11: extensions we do not understand listed in `crit` must be refused.
  if (alg == nullptr || !alg->is_string() || header->contains("crit") ||
      !verifier.allows(alg->get_string())) {
    return refuse(error::token_algorithm_refused);
  }
  const auto signature = detail::base64_decode(parts->signature, detail::base64_alphabet::url);
  if (!signature) return refuse(error::token_malformed);
  if (!verifier.verify(alg->get_string(), parts->signing_input, *signature)) {
    return refuse(error::token_bad_signature);
  }
  auto claims = decode_object(parts->payload);
  if (!claims) return refuse(error::token_malformed);
  return claims;
}

/// Checks the registered claims of signed `claims` (RFC 7519 §4.1) and builds the principal.
std::optional<principal> principal_from(const json::object& claims, const jwt_config& config,
                                        time_point now, std::error_code& ec) {
  auto refuse = [&ec](error e) {
    ec = e;
    return std::optional<principal>{};
  };
  bool bad_date = false;
  const auto exp = numeric_date(claims, "exp", bad_date);
  const auto nbf = numeric_date(claims, "nbf", bad_date);
  if (bad_date) return refuse(error::token_malformed);
  if (!exp && config.require_expiry) return refuse(error::token_missing_expiry);
  if (exp && now >= *exp + config.leeway) return refuse(error::token_expired);
  if (nbf && now + config.leeway < *nbf) return refuse(error::token_not_yet_valid);
  if (!config.issuer.empty()) {
    const auto* iss = claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != config.issuer) {
      return refuse(error::token_wrong_issuer);
    }
  }
  if (!config.audience.empty() && !audience_matches(claims.if_contains("aud"), config.audience)) {
    return refuse(error::token_wrong_audience);
  }
  const auto* name = find_claim(claims, config.user_claim);
  if (name == nullptr || !name->is_string() || !usable_name(name->get_string())) {
    return refuse(error::token_missing_name);
  }
  auto roles = roles_of(find_claim(claims, config.roles_claim));
  if (!roles) return refuse(error::token_bad_roles);
  ec.clear();
  return principal{std::string(name->get_string()), std::move(*roles), exp};
}

}  // namespace

bool looks_like_jwt(std::string_view text) noexcept {
  if (!text.starts_with("eyJ")) return false;
  int dots = 0;
  for (const char c : text) {
    if (c == '.') {
      ++dots;
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
  }
  return dots == 2;
}

jwt_authenticator::jwt_authenticator(jwt_config config, clock now)
    : config_(std::move(config)),
      now_(std::move(now)),
      verifier_(std::make_unique<detail::jws_verifier>(config_.algorithms, config_.hmac_secret,
                                                       config_.public_key_pem)) {
  config_.hmac_secret.clear();  // the verifier holds the only copy of the key
}

jwt_authenticator::~jwt_authenticator() = default;

std::optional<principal> jwt_authenticator::authenticate(const credentials& creds,
                                                         std::error_code& ec) const {
  const std::string_view token = creds.bearer.empty() ? creds.passcode : creds.bearer;
  if (token.empty()) {
    ec = error::missing_credentials;
    return std::nullopt;
  }
  return verify(token, ec);
}

std::optional<principal> jwt_authenticator::verify(std::string_view token,
                                                   std::error_code& ec) const {
  const auto claims = verified_claims(token, config_.max_token_bytes, *verifier_, ec);
  if (!claims) return std::nullopt;
  return principal_from(*claims, config_, now_(), ec);
}

}  // namespace auth
