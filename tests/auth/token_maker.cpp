#include "token_maker.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <stdexcept>

namespace auth::test {
namespace {

std::string public_pem_of(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("PEM write");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string digest_sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) {
    throw std::runtime_error("sign init");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     input.size()) != 1) {
    throw std::runtime_error("sign");
  }
  sig.resize(len);
  return sig;
}

}  // namespace

key_pair make_rsa_key(unsigned bits) {
  key_pair out;
  out.key.reset(EVP_RSA_gen(bits));
  if (!out.key) throw std::runtime_error("RSA keygen");
  out.public_pem = public_pem_of(out.key.get());
  return out;
}

key_pair make_ec_key(const char* curve) {
  key_pair out;
  out.key.reset(EVP_EC_gen(curve));
  if (!out.key) throw std::runtime_error("EC keygen");
  out.public_pem = public_pem_of(out.key.get());
  return out;
}

std::string b64url(std::string_view bytes) {
  static constexpr char chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(chars[(v >> shift) & 63]);
  }
  if (bytes.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out += {chars[(v >> 18) & 63], chars[(v >> 12) & 63]};
  } else if (bytes.size() - i == 2) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += {chars[(v >> 18) & 63], chars[(v >> 12) & 63], chars[(v >> 6) & 63]};
  }
  return out;
}

std::string sign_hs256(std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string sign_rs256(EVP_PKEY* key, std::string_view input) { return digest_sign(key, input); }

std::string sign_es256(EVP_PKEY* key, std::string_view input) {
  const auto der = digest_sign(key, input);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
  if (!sig) throw std::runtime_error("DER decode");
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32);
  return raw;
}

std::string signing_input(std::string_view header_json, std::string_view claims_json) {
  return b64url(header_json) + "." + b64url(claims_json);
}

std::string compact(std::string_view input, std::string_view signature) {
  return std::string(input) + "." + b64url(signature);
}

}  // namespace auth::test
