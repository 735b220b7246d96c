#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace broker {

/// Where a destination routes.
enum class destination_kind {
  topic,  ///< /topic/<name>: every current subscriber gets a copy
  queue,  ///< /queue/<name>: each message to exactly one consumer
};

/// A canonical destination, the one form both SUBSCRIBE and SEND use (see destination.cpp for
/// the grammar). A plain value type.
struct destination {
  destination_kind kind = destination_kind::topic;
  std::string name;            ///< canonical, prefix included: "/topic/news.uk"
  std::size_t prefix_size = 0; ///< length of "/topic/" or "/queue/" in `name`
  bool wildcard = false;       ///< holds a `*` or `#` segment (topics only may subscribe so)

  /// The part after the prefix: "news.uk".
  std::string_view path() const noexcept { return std::string_view(name).substr(prefix_size); }
};

/// Canonicalises and classifies `raw` into `out`. Errors (broker::error): invalid_destination,
/// unknown_destination_prefix. Wildcards are accepted here; the caller decides where they may
/// appear. Thread-safe (pure).
std::error_code parse_destination(std::string_view raw, destination& out);

/// The prefixes we route, for error bodies: "/topic/, /queue/".
std::string_view known_prefixes() noexcept;

}  // namespace broker
