#pragma once
// The reply of a command, owned: hiredis' redisReply freed by freeReplyObject.

#include <memory>
#include <string_view>

#include <hiredis/hiredis.h>

namespace cluster::redis {

/// Frees a hiredis reply.
struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
/// A reply owned by the caller.
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/// The string of a string, status or error reply; empty for null and other kinds.
inline std::string_view reply_text(const redisReply* r) {
  return r && r->str ? std::string_view(r->str, r->len) : std::string_view();
}

/// An error reply whose text starts with `word` ("READONLY", "NOSCRIPT", "WRONGPASS"...).
inline bool is_error(const redisReply* r, std::string_view word) {
  return r && r->type == REDIS_REPLY_ERROR && reply_text(r).starts_with(word);
}

}  // namespace cluster::redis
