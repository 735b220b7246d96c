#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace broker {

/// Where a destination routes.
enum class destination_kind {
  topic,       ///< /topic/<name>: every current subscriber gets a copy
  queue,       ///< /queue/<name>: each message to exactly one consumer
  user_queue,  ///< /user/{owner}/queue/<name>: durable; every subscribed session of the owner
  user_topic,  ///< /user/{owner}/topic/<name>: live only; every subscribed session of the owner
};

/// Which frame a destination comes from. User destinations are spelled as Spring spells them:
/// SUBSCRIBE `/user/queue/x` (the owner is the subscriber), SEND `/user/{owner}/queue/x`.
enum class destination_use { send, subscribe };

/// A canonical destination, the one form both SUBSCRIBE and SEND use (see destination.cpp for
/// the grammar). A plain value type.
struct destination {
  destination_kind kind = destination_kind::topic;
  /// Canonical, prefix included: "/topic/news.uk". For user destinations the owner-less form
  /// every MESSAGE carries: "/user/queue/x".
  std::string name;
  std::size_t prefix_size = 0; ///< length of "/topic/", "/queue/" or "/user/queue/" in `name`
  bool wildcard = false;       ///< holds a `*` or `#` segment (topics only may subscribe so)
  /// User destinations: the owner's user name, percent-decoded once. Empty in the SUBSCRIBE
  /// form `/user/queue/x` until resolve_owner names the subscriber.
  std::string owner;

  /// The part after the prefix: "news.uk".
  std::string_view path() const noexcept { return std::string_view(name).substr(prefix_size); }
  /// True for user_queue and user_topic.
  bool is_user() const noexcept {
    return kind == destination_kind::user_queue || kind == destination_kind::user_topic;
  }
  /// What authorizers, logs and the store see: `name` for topics and queues; for user
  /// destinations "/user/{owner}/queue/x" with the owner encoded as one segment (encode_user).
  std::string resolved() const;
};

/// Canonicalises and classifies `raw` into `out`, as a SEND (default) or SUBSCRIBE destination.
/// Errors (broker::error): invalid_destination, unknown_destination_prefix. Wildcards are
/// accepted for topics and queues here (the caller decides where they may appear), never in user
/// destinations. Thread-safe (pure).
std::error_code parse_destination(std::string_view raw, destination& out,
                                  destination_use use = destination_use::send);

/// Sets the owner of a SUBSCRIBE-form user destination to `user`; no-op for other kinds or when
/// the owner is already named.
void resolve_owner(destination& d, std::string_view user);

/// A user name as one path segment: `%` and `/` percent-encoded ("a/b" -> "a%2Fb"), as Spring
/// sends user names in `/user/{name}/...`. Thread-safe (pure).
std::string encode_user(std::string_view user);
/// The inverse: one round of percent-decoding of a path segment ("a%2Fb" -> "a/b"); nullopt on
/// a bad escape. Thread-safe (pure).
std::optional<std::string> decode_user(std::string_view segment);

/// The prefixes we route, for error bodies: "/topic/, /queue/, /user/".
std::string_view known_prefixes() noexcept;

}  // namespace broker
