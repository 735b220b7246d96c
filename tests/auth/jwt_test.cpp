#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/error.hpp"
#include "token_maker.hpp"

namespace {

using namespace std::chrono_literals;
using auth::error;
namespace json = boost::json;
namespace t = auth::test;

const std::string secret = "0123456789abcdef0123456789abcdef-secret";
// A fixed "now" so exp/nbf tests do not depend on the wall clock.
const auto now = std::chrono::system_clock::time_point{} + 1'700'000'000s;
const long long now_s = 1'700'000'000;

const t::key_pair& rsa() {
  static const auto key = t::make_rsa_key();
  return key;
}
const t::key_pair& ec() {
  static const auto key = t::make_ec_key();
  return key;
}

json::object claims() {
  return {{"sub", "alice"},
          {"roles", json::array{"user", "publisher"}},
          {"exp", now_s + 600},
          {"iss", "https://id.example"},
          {"aud", "stompbox"}};
}

std::string header(std::string_view alg) {
  return json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}});
}

std::string hs256(const json::object& c, std::string_view key = secret) {
  const auto input = t::signing_input(header("HS256"), json::serialize(c));
  return t::compact(input, t::sign_hs256(key, input));
}
std::string rs256(const json::object& c) {
  const auto input = t::signing_input(header("RS256"), json::serialize(c));
  return t::compact(input, t::sign_rs256(rsa().key.get(), input));
}
std::string es256(const json::object& c) {
  const auto input = t::signing_input(header("ES256"), json::serialize(c));
  return t::compact(input, t::sign_es256(ec().key.get(), input));
}

auth::jwt_config hs_config() {
  auth::jwt_config config;
  config.hmac_secret = secret;
  config.issuer = "https://id.example";
  config.audience = "stompbox";
  return config;
}
auth::jwt_config pem_config(const t::key_pair& key) {
  auto config = hs_config();
  config.hmac_secret.clear();
  config.public_key_pem = key.public_pem;
  return config;
}

auth::jwt_authenticator make(auth::jwt_config config) {
  return auth::jwt_authenticator(std::move(config), [] { return now; });
}

/// The error verify() reports, or {} when it accepts.
std::error_code refusal(const auth::jwt_authenticator& jwt, std::string_view token) {
  std::error_code ec;
  const auto who = jwt.verify(token, ec);
  EXPECT_EQ(who.has_value(), !ec);
  return ec;
}

TEST(Jwt, AcceptsGoodHs256Rs256AndEs256Tokens) {
  const auto hs = make(hs_config());
  const auto rs = make(pem_config(rsa()));
  const auto es = make(pem_config(ec()));
  for (const auto& [jwt, token] : {std::pair{&hs, hs256(claims())}, std::pair{&rs, rs256(claims())},
                                   std::pair{&es, es256(claims())}}) {
    std::error_code ec;
    const auto who = jwt->verify(token, ec);
    ASSERT_TRUE(who) << ec.message();
    EXPECT_EQ(who->name, "alice");
    EXPECT_EQ(who->roles, (std::vector<std::string>{"user", "publisher"}));
    EXPECT_EQ(who->expires, now + 600s);
  }
}

TEST(Jwt, RefusesWrongSignatures) {
  const auto hs = make(hs_config());
  EXPECT_EQ(refusal(hs, hs256(claims(), secret + "x")), error::token_bad_signature);
  const auto rs = make(pem_config(rsa()));
  const auto other_rsa = t::make_rsa_key();
  const auto input = t::signing_input(header("RS256"), json::serialize(claims()));
  EXPECT_EQ(refusal(rs, t::compact(input, t::sign_rs256(other_rsa.key.get(), input))),
            error::token_bad_signature);
  const auto es = make(pem_config(ec()));
  auto token = es256(claims());
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(refusal(es, token), error::token_bad_signature);
}

TEST(Jwt, RefusesTamperedClaims) {
  const auto hs = make(hs_config());
  const auto good = hs256(claims());
  auto forged = claims();
  forged["sub"] = "admin";
  const auto sig = good.substr(good.rfind('.'));
  EXPECT_EQ(refusal(hs, t::signing_input(header("HS256"), json::serialize(forged)) + sig),
            error::token_bad_signature);
}

TEST(Jwt, ChecksExpiryWithLeeway) {
  const auto hs = make(hs_config());  // leeway 30 s
  auto c = claims();
  c["exp"] = now_s - 31;
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_expired);
  c["exp"] = now_s - 29;
  EXPECT_EQ(refusal(hs, hs256(c)), std::error_code{});
  c.erase("exp");
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_missing_expiry);
  auto lax = hs_config();
  lax.require_expiry = false;
  std::error_code ec;
  const auto who = make(lax).verify(hs256(c), ec);
  ASSERT_TRUE(who);
  EXPECT_FALSE(who->expires);
  c["exp"] = "tomorrow";
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_malformed);
}

TEST(Jwt, ChecksNotBefore) {
  const auto hs = make(hs_config());
  auto c = claims();
  c["nbf"] = now_s + 31;
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_not_yet_valid);
  c["nbf"] = now_s + 29;
  EXPECT_EQ(refusal(hs, hs256(c)), std::error_code{});
}

TEST(Jwt, ChecksIssuer) {
  const auto hs = make(hs_config());
  auto c = claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_wrong_issuer);
  c.erase("iss");
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_wrong_issuer);
}

TEST(Jwt, ChecksAudienceAsStringOrArray) {
  const auto hs = make(hs_config());
  auto c = claims();
  c["aud"] = "other";
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_wrong_audience);
  c["aud"] = json::array{"other", "stompbox"};
  EXPECT_EQ(refusal(hs, hs256(c)), std::error_code{});
  c["aud"] = json::array{"other"};
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_wrong_audience);
  c.erase("aud");
  EXPECT_EQ(refusal(hs, hs256(c)), error::token_wrong_audience);
}

TEST(Jwt, RefusesAlgNone) {
  const auto hs = make(hs_config());
  const auto input = t::signing_input(R"({"alg":"none","typ":"JWT"})", json::serialize(claims()));
  EXPECT_EQ(refusal(hs, input + "."), error::token_algorithm_refused);
  EXPECT_EQ(refusal(hs, t::compact(input, t::sign_hs256(secret, input))),
            error::token_algorithm_refused);
  const auto no_alg = t::signing_input(R"({"typ":"JWT"})", json::serialize(claims()));
  EXPECT_EQ(refusal(hs, t::compact(no_alg, t::sign_hs256(secret, no_alg))),
            error::token_algorithm_refused);
}

TEST(Jwt, RefusesHs256SignedWithThePublicKeyPem) {
  // Algorithm confusion: a verifier that used the configured RSA key's bytes as an HMAC secret
  // for an HS256 header would accept this.
  const auto rs = make(pem_config(rsa()));
  EXPECT_EQ(refusal(rs, hs256(claims(), rsa().public_pem)), error::token_algorithm_refused);
  auto both = pem_config(rsa());
  both.algorithms = {"HS256", "RS256"};
  EXPECT_THROW(make(both), std::invalid_argument);  // HS256 without a secret: refused at start
}

TEST(Jwt, RefusesAlgorithmsOfAnotherFamilyThanTheKey) {
  const auto es = make(pem_config(ec()));
  EXPECT_EQ(refusal(es, rs256(claims())), error::token_algorithm_refused);
  auto hs_only = hs_config();
  hs_only.algorithms = {"HS256"};
  EXPECT_EQ(refusal(make(hs_only), rs256(claims())), error::token_algorithm_refused);
}

TEST(Jwt, RefusesUnusableConfigurations) {
  auto short_secret = hs_config();
  short_secret.hmac_secret = "too short";
  EXPECT_THROW(make(short_secret), std::invalid_argument);
  EXPECT_THROW(make(auth::jwt_config{}), std::invalid_argument);
  auto unknown = hs_config();
  unknown.algorithms = {"HS256", "none"};
  EXPECT_THROW(make(unknown), std::invalid_argument);
  auto mismatch = pem_config(ec());
  mismatch.algorithms = {"RS256"};
  EXPECT_THROW(make(mismatch), std::invalid_argument);
  EXPECT_THROW(make(pem_config(t::make_rsa_key(1024))), std::invalid_argument);
  EXPECT_THROW(make(pem_config(t::make_ec_key("P-384"))), std::invalid_argument);
  auto garbage = hs_config();
  garbage.public_key_pem = "not a pem";
  EXPECT_THROW(make(garbage), std::invalid_argument);
}

TEST(Jwt, ReadsCustomNameAndRolesClaims) {
  auto config = hs_config();
  config.user_claim = "preferred_username";
  config.roles_claim = "realm_access.roles";
  const auto jwt = make(config);
  auto c = claims();
  c["preferred_username"] = "carol";
  c["realm_access"] = json::object{{"roles", json::array{"publisher"}}};
  std::error_code ec;
  auto who = jwt.verify(hs256(c), ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "carol");
  EXPECT_EQ(who->roles, std::vector<std::string>{"publisher"});

  config.roles_claim = "scope";
  c["scope"] = "read  write";
  who = make(config).verify(hs256(c), ec);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->roles, (std::vector<std::string>{"read", "write"}));
}

TEST(Jwt, RefusesBadNameAndRolesClaims) {
  const auto jwt = make(hs_config());
  auto c = claims();
  c["roles"] = json::array{"user", 7};
  EXPECT_EQ(refusal(jwt, hs256(c)), error::token_bad_roles);
  c["roles"] = 7;
  EXPECT_EQ(refusal(jwt, hs256(c)), error::token_bad_roles);
  c.erase("roles");
  EXPECT_EQ(refusal(jwt, hs256(c)), std::error_code{});  // no roles is fine
  for (const json::value& name : {json::value(""), json::value("a/b"), json::value(42)}) {
    c["sub"] = name;
    EXPECT_EQ(refusal(jwt, hs256(c)), error::token_missing_name);
  }
  c.erase("sub");
  EXPECT_EQ(refusal(jwt, hs256(c)), error::token_missing_name);
}

TEST(Jwt, RefusesMalformedTokens) {
  auto config = hs_config();
  config.max_token_bytes = 1024;
  const auto jwt = make(config);
  const auto good = hs256(claims());
  EXPECT_EQ(refusal(jwt, "abc"), error::token_malformed);
  EXPECT_EQ(refusal(jwt, good + ".x"), error::token_malformed);
  EXPECT_EQ(refusal(jwt, "!!" + good), error::token_malformed);
  EXPECT_EQ(refusal(jwt, good + "*"), error::token_malformed);
  const auto not_json = t::signing_input("{\"alg\":\"HS256\"}", "[1,2]");
  EXPECT_EQ(refusal(jwt, t::compact(not_json, t::sign_hs256(secret, not_json))),
            error::token_malformed);
  EXPECT_EQ(refusal(jwt, std::string(1025, 'a')), error::token_too_large);
  const auto crit =
      t::signing_input(R"({"alg":"HS256","crit":["x"],"x":1})", json::serialize(claims()));
  EXPECT_EQ(refusal(jwt, t::compact(crit, t::sign_hs256(secret, crit))),
            error::token_algorithm_refused);
}

TEST(JwtAuthenticator, TakesTheTokenFromBearerOrPasscode) {
  const auto jwt = make(hs_config());
  const auto token = hs256(claims());
  std::error_code ec;
  auto who = jwt.authenticate({"", "", token, "127.0.0.1:1"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "alice");
  who = jwt.authenticate({"anything", token, "", "127.0.0.1:1"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "alice");  // the token's subject, not the login
  EXPECT_FALSE(jwt.authenticate({"alice", "", "", ""}, ec));
  EXPECT_EQ(ec, error::missing_credentials);
}

TEST(JwtAuthenticator, LooksLikeJwtRecognisesTheCompactShapeOnly) {
  EXPECT_TRUE(auth::looks_like_jwt(hs256(claims())));
  EXPECT_TRUE(auth::looks_like_jwt(es256(claims())));
  EXPECT_FALSE(auth::looks_like_jwt("hunter2"));
  EXPECT_FALSE(auth::looks_like_jwt("eyJhbGciOi.abc"));
  EXPECT_FALSE(auth::looks_like_jwt("eyJ a.b.c"));
  EXPECT_FALSE(auth::looks_like_jwt(""));
}

}  // namespace
