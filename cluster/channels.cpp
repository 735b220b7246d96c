#include "cluster/channels.hpp"

#include <algorithm>
#include <vector>

namespace cluster {
namespace {

std::string prefix(int db) { return "stompbox:" + std::to_string(db) + ":"; }

bool separator(char c) noexcept { return c == '.' || c == '/'; }

void append_escaped(std::string& out, std::string_view literal) {
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '^') out += '\\';
    out += c;
  }
}

// "/topic/a.*.c" -> segments and the separator that follows each (0 for the last).
struct segment {
  std::string_view text;
  char sep;
};

std::vector<segment> split(std::string_view path) {
  std::vector<segment> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || separator(path[i])) {
      out.push_back({path.substr(start, i - start), i == path.size() ? '\0' : path[i]});
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

std::string topic_channel(int db, std::string_view name) {
  return prefix(db) + "t:" + std::string(name);
}

std::string user_channel(int db, std::string_view encoded_user) {
  return prefix(db) + "u:" + std::string(encoded_user);
}

std::string queue_stream(int db, std::string_view name) {
  return prefix(db) + "q:" + std::string(name);
}

std::string queue_channel(int db, std::string_view name) {
  return prefix(db) + "qn:" + std::string(name);
}

std::string history_meta(int db, std::string_view name) {
  return prefix(db) + "h:" + std::string(name);
}

std::string history_stream(int db, std::string_view name) {
  return prefix(db) + "hs:" + std::string(name);
}

std::string history_topics(int db) { return prefix(db) + "htopics"; }

std::string history_rules(int db) { return prefix(db) + "hrules"; }

std::string_view queue_of_channel(int db, std::string_view channel) {
  const std::string head = prefix(db) + "qn:";
  if (!channel.starts_with(head)) return {};
  return channel.substr(head.size());
}

std::string topic_glob(int db, std::string_view name) {
  constexpr std::string_view topic = "/topic/";
  std::string out;
  append_escaped(out, prefix(db) + "t:");
  append_escaped(out, name.substr(0, topic.size()));
  const std::vector<segment> segments = split(name.substr(std::min(topic.size(), name.size())));
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const segment& s = segments[i];
    if (s.text == "#") {
      // Zero or more segments: drop the separator before it and the one after it, so "a.#"
      // matches "a" too.
      if (i > 0 && separator(out.back())) out.pop_back();
      if (out.back() != '*') out += '*';
      continue;
    }
    if (s.text == "*") {
      if (out.back() != '*') out += '*';
    } else {
      append_escaped(out, s.text);
    }
    if (s.sep != '\0') out += s.sep;
  }
  return out;
}

}  // namespace cluster
