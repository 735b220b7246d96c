// Destination grammar (the one place destinations are canonicalised; SEND, SUBSCRIBE and
// broker::publish all go through parse_destination):
//
//   destination = prefix name
//   prefix      = "/topic/" | "/queue/"
//   name        = segment *( ("." | "/") segment )
//   segment     = 1*( any byte except "/", ".", controls (< 0x20, 0x7f) )
//               | "*"        ; exactly one segment   (SUBSCRIBE to /topic/ only)
//               | "#"        ; zero or more segments (SUBSCRIBE to /topic/ only)
//
// Canonicalisation: runs of "/" collapse to one ("/topic//a" -> "/topic/a"). Nothing else is
// rewritten: "/topic/a.b" and "/topic/a/b" are different destinations for exact matching, but both
// separators split segments for wildcard matching (so "/topic/a.*" matches "/topic/a/b").
//
// Valid:        /topic/news   /topic/news.uk   /queue/jobs   /topic/a/b/c   //topic///a -> /topic/a
// Wildcards:    /topic/news.*  (matches /topic/news.uk, not /topic/news or /topic/news.uk.london)
//               /topic/a/#     (matches /topic/a, /topic/a/b, /topic/a/b/c; not /topic/ab)
//               /topic/*.err   (matches /topic/db.err, /topic/db/err; not /topic/db.x.err)
// Invalid:      /topic/            (empty name)           /topic/a/../b   (".." / empty segment)
//               /topic/a%2Fb       (encoded slash)        /topic/a\nb     (control character)
//               /topic/news*       (wildcard inside a segment)     /queue/*  (wildcard queue:
//               rejected by SUBSCRIBE)                             SEND /topic/# (rejected by SEND)
// Unknown prefix: /exchange/x, /amq/queue/x, topic/x, /user/queue/x (user destinations: later).
#include "broker/destination.hpp"

#include "broker/error.hpp"

namespace broker {
namespace {

constexpr std::string_view topic_prefix = "/topic/";
constexpr std::string_view queue_prefix = "/queue/";

bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// "%2F" (slash) and "%5C" (backslash) would let a name smuggle a separator past the rules.
bool has_encoded_separator(std::string_view s) noexcept {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] != '%') continue;
    const char a = s[i + 1];
    const char b = static_cast<char>(s[i + 2] | 0x20);
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c')) return true;
  }
  return false;
}

std::string collapse_slashes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return out;
}

// Checks every segment of the name; sets `wildcard` when one is "*" or "#".
bool check_segments(std::string_view name, bool& wildcard) noexcept {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find_first_of("./", start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view seg = name.substr(start, end - start);
    if (seg.empty()) return false;
    if (seg == "*" || seg == "#") {
      wildcard = true;
    } else if (seg.find_first_of("*#") != std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

std::error_code parse_destination(std::string_view raw, destination& out) {
  for (char c : raw) {
    if (is_control(c)) return error::invalid_destination;
  }
  if (has_encoded_separator(raw)) return error::invalid_destination;
  std::string canonical = collapse_slashes(raw);
  destination d;
  if (canonical.starts_with(topic_prefix)) {
    d.kind = destination_kind::topic;
    d.prefix_size = topic_prefix.size();
  } else if (canonical.starts_with(queue_prefix)) {
    d.kind = destination_kind::queue;
    d.prefix_size = queue_prefix.size();
  } else if (canonical == "/topic" || canonical == "/queue") {
    return error::invalid_destination;  // a known prefix with an empty name
  } else {
    return error::unknown_destination_prefix;
  }
  d.name = std::move(canonical);
  if (d.path().empty() || !check_segments(d.path(), d.wildcard)) {
    return error::invalid_destination;
  }
  out = std::move(d);
  return {};
}

std::string_view known_prefixes() noexcept { return "/topic/, /queue/"; }

}  // namespace broker
