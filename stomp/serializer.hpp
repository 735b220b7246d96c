#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "stomp/frame.hpp"
#include "stomp/version.hpp"

namespace stomp {

/// Escapes a header name or value per `v` (1.1: `\\ \n \c`; 1.2 adds `\r`; 1.0 none).
void escape(std::string_view in, version v, std::string& out);

/// Appends the wire form of `f` to `out`: command, headers escaped per `v` and command (never for
/// CONNECT/CONNECTED), `content-length` written for every non-empty body (replacing any given),
/// blank line, body, NUL. Where headers are not escaped (1.0, CONNECT/CONNECTED), a header that
/// cannot be written as it is (a LF in it, a ':' in its name) is left out: the output always
/// parses back as one frame.
void serialize(const frame& f, version v, std::string& out);
std::string serialize(const frame& f, version v);

/// True when `bytes` is valid UTF-8 (decides text or binary WebSocket messages).
bool is_valid_utf8(std::string_view bytes) noexcept;

/// A MESSAGE serialised once for many subscribers. The shared tail (every header common to all
/// subscribers, content-length, blank line, body, NUL) is built once per version actually used;
/// each delivery writes only message_head() before it. Immutable once built; thread-safe.
class shared_message {
 public:
  /// `common` is the MESSAGE frame without `subscription`/`ack`; its command is ignored.
  explicit shared_message(frame common);
  ~shared_message();
  shared_message(const shared_message&) = delete;
  shared_message& operator=(const shared_message&) = delete;

  /// The shared tail for version `v`, built on first use. Thread-safe.
  const std::string& tail(version v) const;
  /// Whether tail(v) is valid UTF-8 (the head always is when the ids are). Thread-safe.
  bool tail_is_utf8(version v) const;

  /// The frame this message was built from.
  const frame& common() const noexcept { return common_; }

 private:
  struct cache;
  frame common_;
  std::unique_ptr<cache> cache_;
};

/// The per-subscription head that goes before shared_message::tail(v):
/// "MESSAGE\nsubscription:<id>\n" and, when `ack` is not empty, "ack:<ack>\n".
void message_head(std::string_view subscription, std::string_view ack, version v,
                  std::string& out);

}  // namespace stomp
