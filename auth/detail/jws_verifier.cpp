#include "auth/detail/jws_verifier.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <stdexcept>

namespace auth::detail {
namespace {

constexpr std::size_t min_secret_bytes = 32;  // RFC 7518 §3.2: at least the hash size
constexpr int min_rsa_bits = 2048;            // RFC 7518 §3.3
constexpr std::size_t es256_part_bytes = 32;  // RFC 7518 §3.4: r and s, 32 bytes each

EVP_PKEY* read_public_key(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) throw std::runtime_error("BIO_new_mem_buf failed");
  if (EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)) return key;
  BIO_reset(bio.get());
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert) {
    if (EVP_PKEY* key = X509_get_pubkey(cert.get())) return key;
  }
  throw std::invalid_argument("jwt public key: not a PEM PUBLIC KEY or CERTIFICATE");
}

/// The algorithm a public key serves, checking its strength.
std::string algorithm_for(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < min_rsa_bits) {
      throw std::invalid_argument("jwt public key: RSA keys need at least 2048 bits");
    }
    return "RS256";
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      throw std::invalid_argument("jwt public key: EC keys must be on P-256 for ES256");
    }
    return "ES256";
  }
  throw std::invalid_argument("jwt public key: only RSA and EC P-256 keys are supported");
}

/// JWS carries ECDSA signatures as raw r||s; EVP wants DER (RFC 7518 §3.4).
std::string es256_to_der(std::string_view raw) {
  if (raw.size() != 2 * es256_part_bytes) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(bytes, es256_part_bytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + es256_part_bytes, es256_part_bytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify_hmac(std::string_view secret, std::string_view input, std::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
           &mac_len) == nullptr) {
    return false;
  }
  return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

bool verify_digest(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

}  // namespace

void jws_verifier::key_deleter::operator()(void* key) const noexcept {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

jws_verifier::jws_verifier(std::vector<std::string> algorithms, std::string hmac_secret,
                           std::string_view public_key_pem)
    : algorithms_(std::move(algorithms)), hmac_secret_(std::move(hmac_secret)) {
  if (!hmac_secret_.empty() && hmac_secret_.size() < min_secret_bytes) {
    throw std::invalid_argument("jwt secret: HS256 needs at least 32 bytes");
  }
  if (!public_key_pem.empty()) {
    public_key_.reset(read_public_key(public_key_pem));
    public_alg_ = algorithm_for(static_cast<EVP_PKEY*>(public_key_.get()));
  }
  if (algorithms_.empty()) {
    if (!hmac_secret_.empty()) algorithms_.push_back("HS256");
    if (!public_alg_.empty()) algorithms_.push_back(public_alg_);
  }
  if (algorithms_.empty()) throw std::invalid_argument("jwt: neither secret nor public key");
  for (const auto& alg : algorithms_) {
    if (alg == "HS256" && hmac_secret_.empty()) {
      throw std::invalid_argument("jwt: HS256 allowed but no secret configured");
    }
    if ((alg == "RS256" || alg == "ES256") && alg != public_alg_) {
      throw std::invalid_argument("jwt: " + alg + " allowed but no matching public key");
    }
    if (alg != "HS256" && alg != "RS256" && alg != "ES256") {
      throw std::invalid_argument("jwt: unsupported algorithm `" + alg + "`");
    }
  }
  if (!hmac_secret_.empty() && !allows("HS256")) {
    throw std::invalid_argument("jwt: a secret is configured but HS256 is not allowed");
  }
  if (!public_alg_.empty() && !allows(public_alg_)) {
    throw std::invalid_argument("jwt: a public key is configured but " + public_alg_ +
                                " is not allowed");
  }
}

jws_verifier::~jws_verifier() = default;

bool jws_verifier::allows(std::string_view alg) const noexcept {
  return std::find(algorithms_.begin(), algorithms_.end(), alg) != algorithms_.end();
}

bool jws_verifier::verify(std::string_view alg, std::string_view signing_input,
                          std::string_view signature) const noexcept {
  if (!allows(alg)) return false;
  if (alg == "HS256") return verify_hmac(hmac_secret_, signing_input, signature);
  // The key's own type chose public_alg_ at start-up; the token header only selects among
  // what is configured.
  if (alg != public_alg_) return false;
  auto* key = static_cast<EVP_PKEY*>(public_key_.get());
  if (alg == "RS256") return verify_digest(key, signing_input, signature);
  try {
    const auto der = es256_to_der(signature);
    return !der.empty() && verify_digest(key, signing_input, der);
  } catch (...) {  // std::bad_alloc only
    return false;
  }
}

}  // namespace auth::detail
