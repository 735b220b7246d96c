#include "auth/credential_cache.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace auth {

credential_cache::credential_cache(credential_cache_limits limits, clock now)
    : limits_(limits), now_(std::move(now)), secret_(32, '\0') {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

std::string credential_cache::key(std::string_view login, std::string_view passcode) const {
  // The NUL separator keeps ("ab", "c") and ("a", "bc") apart (logins hold no control bytes).
  std::string input;
  input.reserve(login.size() + 1 + passcode.size());
  input.append(login).push_back('\0');
  input.append(passcode);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::optional<principal> credential_cache::find(std::string_view login,
                                                std::string_view passcode) const {
  if (limits_.max_entries == 0) return std::nullopt;
  const std::string k = key(login, passcode);
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(k);
  if (it == entries_.end()) return std::nullopt;
  if (now_() - it->second.verified >= limits_.max_age) {
    erase_locked(it);
    return std::nullopt;
  }
  return it->second.who;
}

void credential_cache::remember(std::string_view login, std::string_view passcode,
                                const principal& who) {
  if (limits_.max_entries == 0) return;
  std::string k = key(login, passcode);
  const auto now = now_();
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(k); it != entries_.end()) erase_locked(it);
  while (entries_.size() >= limits_.max_entries) erase_locked(entries_.find(oldest_first_.front()));
  oldest_first_.push_back(k);
  entries_.emplace(std::move(k), entry{who, now, std::prev(oldest_first_.end())});
}

std::size_t credential_cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void credential_cache::erase_locked(std::unordered_map<std::string, entry>::iterator it) const {
  oldest_first_.erase(it->second.age_pos);
  entries_.erase(it);
}

}  // namespace auth
