// Destination grammar (the one place destinations are canonicalised; SEND, SUBSCRIBE,
// broker::publish and the publish API all go through parse_destination):
//
//   destination = prefix name | user-destination
//   prefix      = "/topic/" | "/queue/"
//   name        = segment *( ("." | "/") segment )
//   segment     = 1*( any byte except "/", ".", controls (< 0x20, 0x7f) )
//               | "*"        ; exactly one segment   (SUBSCRIBE to /topic/ only)
//               | "#"        ; zero or more segments (SUBSCRIBE to /topic/ only)
//   user-destination = "/user" [ "/" owner ] ( "/queue/" | "/topic/" ) name   ; no wildcards
//   owner       = 1*( any byte except "/" ), percent-decoded exactly once; required in SEND,
//                 absent in SUBSCRIBE when the next segment is "queue" or "topic" (Spring)
//
// Canonicalisation: runs of "/" collapse to one ("/topic//a" -> "/topic/a"). Nothing else is
// rewritten: "/topic/a.b" and "/topic/a/b" are different destinations for exact matching, but both
// separators split segments for wildcard matching (so "/topic/a.*" matches "/topic/a/b").
// Prefixes are case-sensitive: "/Topic/x" and "/USER/queue/x" are unknown prefixes.
//
// User destinations are not topics: they live in their own table, keyed by the resolved name
// "/user/{encoded owner}/queue/x", so no topic wildcard (/topic/#) and no plain queue (Spring's
// "/queue/x-user{session}") can ever reach them. Their MESSAGEs carry "/user/queue/x".
// The owner is the only part ever percent-decoded (a name with "/" travels as "%2F"); the
// decoded owner may not be empty, "." or "..", "*" or "#", nor hold control characters.
//
// Valid:        /topic/news   /topic/news.uk   /queue/jobs   /topic/a/b/c   //topic///a -> /topic/a
//               SEND /user/bob/queue/x (owner bob)   SEND /user/a%2Fb/queue/x (owner "a/b")
//               SUBSCRIBE /user/queue/x (owner: the subscriber)   SUBSCRIBE /user/bob/topic/x
// Wildcards:    /topic/news.*  (matches /topic/news.uk, not /topic/news or /topic/news.uk.london)
//               /topic/a/#     (matches /topic/a, /topic/a/b, /topic/a/b/c; not /topic/ab)
//               /topic/*.err   (matches /topic/db.err, /topic/db/err; not /topic/db.x.err)
// Invalid:      /topic/            (empty name)           /topic/a/../b   (".." / empty segment)
//               /topic/a%2Fb       (encoded slash)        /topic/a\nb     (control character)
//               /topic/%2e%2e      (encoded dot)          /user/%2e%2e/queue/x (dot owner)
//               /topic/news*       (wildcard inside a segment)     /queue/*  (wildcard queue:
//               rejected by SUBSCRIBE)                             SEND /topic/# (rejected by SEND)
//               /user/queue/#      /user/*/queue/x    /user/bob/queue/a%20b (encoded inner name)
//               SEND /user/queue/x (owner "queue", then "/x": no /queue/ or /topic/ prefix)
// Unknown prefix: /exchange/x, /amq/queue/x, topic/x, /User/bob/queue/x.
#include "broker/destination.hpp"

#include "broker/error.hpp"

namespace broker {
namespace {

constexpr std::string_view topic_prefix = "/topic/";
constexpr std::string_view queue_prefix = "/queue/";
constexpr std::string_view user_prefix = "/user/";

bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// "%2F" (slash), "%5C" (backslash) and "%2E" (dot) would let a name smuggle a separator or a dot
// segment past the rules.
bool has_encoded_separator(std::string_view s) noexcept {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] != '%') continue;
    const char a = s[i + 1];
    const char b = static_cast<char>(s[i + 2] | 0x20);
    if ((a == '2' && (b == 'f' || b == 'e')) || (a == '5' && b == 'c')) return true;
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

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly one round of percent-decoding ("%252F" -> "%2F", not "/"); false on a bad escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool valid_owner(std::string_view owner) noexcept {
  if (owner.empty() || owner == "." || owner == ".." || owner == "*" || owner == "#") return false;
  for (char c : owner) {
    if (is_control(c)) return false;
  }
  return true;
}

// A plain /topic/ or /queue/ name (already collapsed).
std::error_code parse_plain(std::string canonical, destination& d) {
  if (has_encoded_separator(canonical)) return error::invalid_destination;
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
  return {};
}

// After "/user/": "[owner/](queue|topic)/name".
std::error_code parse_user(std::string_view rest, destination_use use, destination& d) {
  const bool self = use == destination_use::subscribe &&
                    (rest.starts_with("queue/") || rest.starts_with("topic/"));
  std::string_view inner = rest;
  if (!self) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return error::invalid_destination;
    if (!percent_decode(rest.substr(0, slash), d.owner) || !valid_owner(d.owner)) {
      return error::invalid_destination;
    }
    inner = rest.substr(slash + 1);
  }
  // Only the owner is ever decoded; a '%' elsewhere is a spelling trick, not a name.
  if (inner.find('%') != std::string_view::npos) return error::invalid_destination;
  destination plain;
  std::string slashed(1, '/');  // appended, not "/" + string: g++ 12 -O3 warns (-Wrestrict)
  slashed += inner;
  if (parse_plain(slashed, plain) || plain.wildcard) return error::invalid_destination;
  d.kind = plain.kind == destination_kind::queue ? destination_kind::user_queue
                                                 : destination_kind::user_topic;
  d.name = "/user" + plain.name;
  d.prefix_size = std::string_view("/user").size() + plain.prefix_size;
  return {};
}

}  // namespace

std::string destination::resolved() const {
  if (!is_user()) return name;
  return std::string(user_prefix) + encode_user(owner) + name.substr(user_prefix.size() - 1);
}

std::error_code parse_destination(std::string_view raw, destination& out, destination_use use) {
  for (char c : raw) {
    if (is_control(c)) return error::invalid_destination;
  }
  std::string canonical = collapse_slashes(raw);
  destination d;
  if (canonical.starts_with(user_prefix)) {
    if (auto ec = parse_user(std::string_view(canonical).substr(user_prefix.size()), use, d)) {
      return ec;
    }
  } else if (canonical == "/user") {
    return error::invalid_destination;
  } else if (auto ec = parse_plain(std::move(canonical), d)) {
    return ec;
  }
  out = std::move(d);
  return {};
}

void resolve_owner(destination& d, std::string_view user) {
  if (d.is_user() && d.owner.empty()) d.owner = std::string(user);
}

std::string encode_user(std::string_view user) {
  std::string out;
  out.reserve(user.size());
  for (char c : user) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> decode_user(std::string_view segment) {
  std::string out;
  if (!percent_decode(segment, out)) return std::nullopt;
  return out;
}

std::string_view known_prefixes() noexcept { return "/topic/, /queue/, /user/"; }

}  // namespace broker
