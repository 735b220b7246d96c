// Fuzzes broker::parse_destination and wildcard routing. Input: byte 0 is ignored (room for
// future flags), the rest is "A\nB": two raw destinations (B may be absent). Aborts when
//  - a parsed destination breaks a canonical-form rule: known prefix and prefix_size, no "//",
//    no empty or ".." segment, no control character, no encoded separator (%2F %2E %5C), a
//    `wildcard` flag that says whether a segment is * or #, no wildcard and no '%' in a user
//    destination, a valid owner;
//  - parsing is not idempotent: the canonical name (for user destinations the resolved name,
//    with the owner encoded as one segment, parsed as a SEND) parses to the same destination;
//  - SEND and SUBSCRIBE disagree on a destination that is not a user destination;
//  - a topic wildcard A routes a message sent to B differently from a reference matcher, or
//    routes anything that is not a /topic/ destination (user destinations, queues).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/connection.hpp"
#include "broker/destination.hpp"
#include "broker/message.hpp"
#include "broker/registry.hpp"
#include "broker/topic_matcher.hpp"

namespace {

using namespace broker;

[[noreturn]] void broken(const char* rule, std::string_view raw) {
  std::fprintf(stderr, "destination_fuzzer: %s: \"%.*s\"\n", rule, static_cast<int>(raw.size()),
               raw.data());
  std::abort();
}

bool has_encoded_separator(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] != '%') continue;
    const char a = s[i + 1];
    const char b = static_cast<char>(s[i + 2] | 0x20);
    if ((a == '2' && (b == 'f' || b == 'e')) || (a == '5' && b == 'c')) return true;
  }
  return false;
}

bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::string_view prefix_of(destination_kind k) {
  switch (k) {
    case destination_kind::topic: return "/topic/";
    case destination_kind::queue: return "/queue/";
    case destination_kind::user_queue: return "/user/queue/";
    case destination_kind::user_topic: return "/user/topic/";
  }
  return "?";
}

bool same(const destination& a, const destination& b) {
  return a.kind == b.kind && a.name == b.name && a.prefix_size == b.prefix_size &&
         a.wildcard == b.wildcard && a.owner == b.owner;
}

void check_canonical(const destination& d, destination_use use, std::string_view raw) {
  const std::string_view prefix = prefix_of(d.kind);
  if (!d.name.starts_with(prefix) || d.prefix_size != prefix.size()) broken("prefix", raw);
  if (d.name.find("//") != std::string::npos) broken("'//' in a canonical name", raw);
  if (d.name.find("..") != std::string::npos) broken("'..' in a canonical name", raw);
  if (has_control(d.name)) broken("control character in a canonical name", raw);
  if (has_encoded_separator(d.name)) broken("encoded separator in a canonical name", raw);
  bool wildcard = false;
  for (std::string_view seg : split_segments(d.path())) {
    if (seg.empty()) broken("empty segment", raw);
    if (seg == "*" || seg == "#") {
      wildcard = true;
    } else if (seg.find_first_of("*#") != std::string_view::npos) {
      broken("wildcard character inside a segment", raw);
    }
  }
  if (wildcard != d.wildcard) broken("wildcard flag", raw);
  if (!d.is_user()) {
    if (!d.owner.empty()) broken("owner on a plain destination", raw);
    return;
  }
  if (d.wildcard) broken("wildcard in a user destination", raw);
  if (d.name.find('%') != std::string::npos) broken("'%' in a user destination name", raw);
  if (use == destination_use::send && d.owner.empty()) broken("SEND without an owner", raw);
  if (!d.owner.empty() && (d.owner == "." || d.owner == ".." || d.owner == "*" ||
                           d.owner == "#" || has_control(d.owner))) {
    broken("invalid owner", raw);
  }
}

// The owner stays one segment: the resolved name (owner encoded) parses back to the same
// destination, so a decoded "/" in an owner can never become a separator.
void check_idempotent(const destination& d, destination_use use, std::string_view raw) {
  destination again;
  if (!d.is_user()) {
    if (parse_destination(d.name, again, use) || !same(d, again)) broken("not idempotent", raw);
    return;
  }
  destination owned = d;
  resolve_owner(owned, "fuzz%2F/user");
  const std::string resolved = owned.resolved();
  if (parse_destination(resolved, again, destination_use::send) || !same(owned, again)) {
    broken("resolved user destination does not parse back", raw);
  }
  if (d.owner.empty() && (parse_destination(d.name, again, use) || !same(d, again))) {
    broken("not idempotent (SUBSCRIBE form)", raw);
  }
}

// Parses `raw` both ways and checks each success; returns the SEND and SUBSCRIBE results.
void check_one(std::string_view raw, std::error_code& send_ec, destination& send_d,
               std::error_code& sub_ec, destination& sub_d) {
  send_ec = parse_destination(raw, send_d, destination_use::send);
  sub_ec = parse_destination(raw, sub_d, destination_use::subscribe);
  if (!send_ec) {
    check_canonical(send_d, destination_use::send, raw);
    check_idempotent(send_d, destination_use::send, raw);
  }
  if (!sub_ec) {
    check_canonical(sub_d, destination_use::subscribe, raw);
    check_idempotent(sub_d, destination_use::subscribe, raw);
  }
  const bool plain = (!send_ec && !send_d.is_user()) || (!sub_ec && !sub_d.is_user());
  if (plain && (send_ec != sub_ec || !same(send_d, sub_d))) broken("SEND != SUBSCRIBE", raw);
}

// Reference wildcard matcher: dynamic programming over (pattern, subject) segment positions.
bool reference_match(const std::vector<std::string_view>& p, const std::vector<std::string_view>& s) {
  const std::size_t n = s.size();
  // ok[j] = pattern suffix from i matches subject suffix from j; computed for i from the end.
  std::vector<char> ok(n + 1, 0);
  ok[n] = 1;
  for (std::size_t i = p.size(); i-- > 0;) {
    std::vector<char> next(n + 1, 0);
    for (std::size_t j = n + 1; j-- > 0;) {
      if (p[i] == "#") {
        next[j] = ok[j] || (j < n && next[j + 1]);
      } else {
        next[j] = j < n && (p[i] == "*" || p[i] == s[j]) && ok[j + 1];
      }
    }
    ok = std::move(next);
  }
  return ok[0];
}

// Counts deliveries the registry posts.
class counting_connection final : public connection {
 public:
  void post(std::function<void()>) override { ++posts; }
  void send(outgoing) override {}
  void close(close_reason) override {}
  void connected(std::chrono::milliseconds, std::chrono::milliseconds) override {}
  const peer_info& peer() const noexcept override { return peer_; }
  int posts = 0;

 private:
  peer_info peer_;
};

// Subscribes the wildcard `pattern` in a fresh registry and routes a message sent to `target`.
void check_routing(const destination& pattern, const destination& target, std::string_view raw) {
  registry reg(4);
  auto conn = std::make_shared<counting_connection>();
  std::shared_ptr<queue> q;
  reg.subscribe(subscriber{1, conn, {}}, pattern, true, 0, q);
  stomp::frame send;
  send.command = "SEND";
  send.add("destination", target.is_user() ? target.resolved() : target.name);
  message_ptr m;
  if (make_message(send, target, "m-1", m)) broken("make_message refused a SEND", raw);
  const std::error_code ec = reg.route(m);
  if (target.is_user() && !ec) broken("a user destination was routed as a topic", raw);
  bool expected = false;
  if (target.kind == destination_kind::topic) {
    const auto p = split_segments(pattern.path());
    const auto s = split_segments(target.path());
    expected = reference_match(p, s);
    if (topic_matcher(pattern.path()).matches(target.path()) != expected) {
      broken("topic_matcher disagrees with the reference matcher", raw);
    }
  }
  if (conn->posts != (expected ? 1 : 0)) broken("wildcard routing", raw);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nl = input.find('\n');
  const std::string_view a = input.substr(0, nl);
  const std::string_view b = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  std::error_code a_send_ec, a_sub_ec, b_send_ec, b_sub_ec;
  destination a_send, a_sub, b_send, b_sub;
  check_one(a, a_send_ec, a_send, a_sub_ec, a_sub);
  if (nl == std::string_view::npos) return 0;
  check_one(b, b_send_ec, b_send, b_sub_ec, b_sub);
  // Only topic subscriptions may be wildcards (the SUBSCRIBE handler refuses the others).
  if (a_sub_ec || !a_sub.wildcard || a_sub.kind != destination_kind::topic) return 0;
  if (b_send_ec || b_send.wildcard) return 0;
  if (b.size() > 2048) return 0;  // the reference matcher is quadratic
  check_routing(a_sub, b_send, input);
  return 0;
}
