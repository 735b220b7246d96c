// Fuzzes JWT verification (auth::jwt_authenticator, HS256). Input: byte 0 picks the mode.
//   bit 0 = 0: the rest is a token, verified against a secret drawn at random when the process
//              starts, so no input can carry a valid signature: anything accepted is a bug.
//   bit 0 = 1: the rest is "header JSON\npayload JSON"; the harness encodes and signs them with
//              a secret it knows, so the claim checks run on arbitrary claims. Bit 1 picks the
//              configuration (plain `sub`/`roles`, or nested claims with issuer and audience
//              and no expiry required). Aborts when an accepted token's principal has an
//              unusable name (empty, '/', control character) or has expired past the leeway,
//              when the same token verifies under the random secret, or when it still verifies
//              with its signature altered.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth/detail/base64.hpp"
#include "auth/jwt.hpp"

namespace {

using namespace std::chrono_literals;
using auth::detail::base64_alphabet;

// Fixed "now" (2023-11-14): deterministic expiry checks.
const auto fixed_now = std::chrono::system_clock::time_point{} + 1'700'000'000s;
constexpr std::string_view known_secret = "fuzzing-secret-fuzzing-secret-32+";

[[noreturn]] void broken(const char* rule, std::string_view token) {
  std::fprintf(stderr, "jwt_fuzzer: %s: \"%.*s\"\n", rule, static_cast<int>(token.size()),
               token.data());
  std::abort();
}

auth::jwt_config hs256(std::string secret) {
  auth::jwt_config c;
  c.algorithms = {"HS256"};
  c.hmac_secret = std::move(secret);
  return c;
}

auth::jwt_authenticator make_random() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) std::abort();
  return auth::jwt_authenticator(hs256(std::move(secret)), [] { return fixed_now; });
}

auth::jwt_authenticator make_known(bool nested) {
  auth::jwt_config c = hs256(std::string(known_secret));
  if (nested) {
    c.issuer = "https://id.example.com/";
    c.audience = "stompbox";
    c.user_claim = "user.name";
    c.roles_claim = "realm_access.roles";
    c.require_expiry = false;
  }
  return auth::jwt_authenticator(std::move(c), [] { return fixed_now; });
}

std::string sign(std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), known_secret.data(), static_cast<int>(known_secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return auth::detail::base64_encode(std::string_view(reinterpret_cast<char*>(mac), len),
                                     base64_alphabet::url);
}

void check_refused(const auth::jwt_authenticator& a, std::string_view token, const char* rule) {
  std::error_code ec;
  if (a.verify(token, ec) || !ec) broken(rule, token);
  auth::credentials creds;
  creds.passcode = std::string(token);
  if (a.authenticate(creds, ec) || !ec) broken(rule, token);
}

void check_principal(const auth::principal& p, bool require_expiry, std::string_view token) {
  const auto leeway = auth::jwt_config{}.leeway;  // both configurations keep the default
  if (p.name.empty()) broken("accepted with an empty name", token);
  for (char ch : p.name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f || ch == '/') broken("accepted with an unusable name", token);
  }
  if (!p.expires && require_expiry) broken("accepted without exp", token);
  if (p.expires && fixed_now >= *p.expires + leeway) broken("accepted after exp", token);
}

void run_signed(std::string_view rest, bool nested) {
  static const auth::jwt_authenticator plain = make_known(false);
  static const auth::jwt_authenticator deep = make_known(true);
  static const auth::jwt_authenticator random = make_random();
  const std::size_t nl = rest.find('\n');
  const std::string_view header = rest.substr(0, nl);
  const std::string_view payload = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
  const std::string input = auth::detail::base64_encode(header, base64_alphabet::url) + '.' +
                            auth::detail::base64_encode(payload, base64_alphabet::url);
  const std::string signature = sign(input);
  const std::string token = input + '.' + signature;
  const auth::jwt_authenticator& a = nested ? deep : plain;
  std::error_code ec;
  if (const auto p = a.verify(token, ec)) {
    if (ec) broken("accepted with an error code set", token);
    check_principal(*p, !nested, token);
  }
  check_refused(random, token, "verified under a secret nobody knows");
  std::string altered = token;
  char& first = altered[input.size() + 1];  // the signature's first character: 6 whole bits
  first = first == 'A' ? 'B' : 'A';
  check_refused(a, altered, "verified with an altered signature");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const auth::jwt_authenticator random = make_random();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    run_signed(rest, (data[0] & 2) != 0);
  } else {
    (void)auth::looks_like_jwt(rest);
    check_refused(random, rest, "verified under a secret nobody knows");
  }
  return 0;
}
