#pragma once
// A Lua script sent by its SHA1 (EVALSHA), its text only when Redis does not know it.

#include <string>

namespace cluster::redis {

/// A script's text and the lowercase hex SHA1 Redis names it by. Immutable value.
struct script {
  /// Computes the SHA1 of `text`.
  explicit script(std::string text);
  std::string text;  ///< the Lua source
  std::string sha;   ///< 40 lowercase hex digits, as SCRIPT LOAD answers
};

}  // namespace cluster::redis
