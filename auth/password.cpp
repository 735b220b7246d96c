#include "auth/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <istream>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "auth/detail/base64.hpp"
#include "auth/error.hpp"

namespace auth {
namespace {

constexpr std::string_view prefix = "$pbkdf2-sha256$i=";
constexpr std::size_t salt_bytes = 16;
constexpr std::size_t hash_bytes = 32;
// Stored hashes from elsewhere (passlib, other tools) may use other sizes within these bounds.
constexpr std::size_t min_salt_bytes = 8;
constexpr std::size_t min_hash_bytes = 16;
constexpr std::size_t max_part_bytes = 64;

struct parsed_hash {
  unsigned iterations = 0;
  std::string salt;
  std::string hash;
};

std::optional<parsed_hash> parse_hash(std::string_view text) {
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  parsed_hash out;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.iterations);
  if (ec != std::errc{} || end == text.data() || text[0] == '0') return std::nullopt;
  if (out.iterations < min_pbkdf2_iterations || out.iterations > max_pbkdf2_iterations) {
    return std::nullopt;
  }
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (!text.starts_with('$')) return std::nullopt;
  text.remove_prefix(1);
  const auto dollar = text.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = detail::base64_decode(text.substr(0, dollar), detail::base64_alphabet::standard);
  auto hash = detail::base64_decode(text.substr(dollar + 1), detail::base64_alphabet::standard);
  if (!salt || !hash) return std::nullopt;
  if (salt->size() < min_salt_bytes || salt->size() > max_part_bytes) return std::nullopt;
  if (hash->size() < min_hash_bytes || hash->size() > max_part_bytes) return std::nullopt;
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

/// PBKDF2 into `out.size()` bytes; false only if OpenSSL fails.
bool derive(std::string_view password, std::string_view salt, unsigned iterations,
            std::string& out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), static_cast<int>(iterations),
                           EVP_sha256(), static_cast<int>(out.size()),
                           reinterpret_cast<unsigned char*>(out.data())) == 1;
}

}  // namespace

std::string hash_password(std::string_view password, unsigned iterations) {
  if (iterations < min_pbkdf2_iterations || iterations > max_pbkdf2_iterations) {
    throw std::invalid_argument("pbkdf2 iteration count out of range");
  }
  std::string salt(salt_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string hash(hash_bytes, '\0');
  if (!derive(password, salt, iterations, hash)) throw std::runtime_error("PBKDF2 failed");
  return std::string(prefix) + std::to_string(iterations) + '$' +
         detail::base64_encode(salt, detail::base64_alphabet::standard) + '$' +
         detail::base64_encode(hash, detail::base64_alphabet::standard);
}

bool is_valid_hash(std::string_view hash) noexcept {
  try {
    return parse_hash(hash).has_value();
  } catch (...) {  // std::bad_alloc only
    return false;
  }
}

bool verify_password(std::string_view password, std::string_view hash,
                     std::error_code& ec) noexcept {
  try {
    const auto parsed = parse_hash(hash);
    if (!parsed) {
      ec = error::malformed_hash;
      return false;
    }
    std::string candidate(parsed->hash.size(), '\0');
    if (!derive(password, parsed->salt, parsed->iterations, candidate)) {
      ec = error::malformed_hash;
      return false;
    }
    // CRYPTO_memcmp: the time taken must not tell how many leading bytes matched.
    if (CRYPTO_memcmp(candidate.data(), parsed->hash.data(), candidate.size()) != 0) {
      ec = error::bad_password;
      return false;
    }
    ec.clear();
    return true;
  } catch (...) {  // std::bad_alloc only
    ec = error::malformed_hash;
    return false;
  }
}

bool verify_password(std::string_view password, std::string_view hash) noexcept {
  std::error_code ec;
  return verify_password(password, hash, ec);
}

int passwd_main(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    err << "stompbox passwd: read an empty password from standard input\n";
    return 1;
  }
  out << hash_password(line) << '\n';
  return 0;
}

}  // namespace auth
