#pragma once

#include <string>
#include <string_view>

namespace cluster {

/// A Lua script for Redis and its SHA1 (lowercase hex), the name Redis caches it by: sent as
/// `EVALSHA sha`, the text only after a NOSCRIPT reply (a restarted or failed-over Redis, or
/// SCRIPT FLUSH, forgot it). Immutable; any thread.
class lua_script {
 public:
  explicit lua_script(std::string text);

  const std::string& text() const noexcept { return text_; }
  const std::string& sha() const noexcept { return sha_; }

 private:
  std::string text_;
  std::string sha_;
};

/// Lowercase hex SHA1 of `text` (what Redis' SCRIPT LOAD answers for it).
std::string sha1_hex(std::string_view text);

}  // namespace cluster
