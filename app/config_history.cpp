#include "app/config_history.hpp"

#include <cstdint>
#include <string>

#include "broker/destination.hpp"

namespace app::detail {
namespace {

// Per concrete topic; far more is a mistake (each message may be up to max_frame_bytes).
constexpr std::int64_t max_history_messages = 1'000'000;
constexpr std::int64_t max_history_age = 366LL * 24 * 3600;

std::int64_t read_bound(const toml::table& t, const std::string& where, const char* key,
                        std::int64_t low, std::int64_t high, std::int64_t fallback) {
  const toml::node* node = t.get(key);
  if (!node) return fallback;
  const auto v = node->value_exact<std::int64_t>();
  if (!v || *v < low || *v > high) {
    throw config_error(where + " " + key + ": expected an integer in [" + std::to_string(low) +
                       ", " + std::to_string(high) + "]");
  }
  return *v;
}

broker::history_rule read_rule(const toml::table& t, const std::string& where) {
  for (const auto& [key, node] : t) {
    const std::string_view k = key.str();
    if (k != "pattern" && k != "max_messages" && k != "max_age_seconds") {
      throw config_error(where + ": unknown key '" + std::string(k) + "'");
    }
  }
  broker::history_rule rule;
  const auto pattern = t["pattern"].value_exact<std::string>();
  if (!pattern) throw config_error(where + ": pattern (a /topic/ destination) is required");
  broker::destination d;
  if (broker::parse_destination(*pattern, d, broker::destination_use::subscribe) ||
      d.kind != broker::destination_kind::topic) {
    throw config_error(where + " pattern: expected a /topic/ destination (wildcards * and # "
                       "allowed), got '" + *pattern + "'");
  }
  rule.pattern = d.name;
  rule.max_messages = static_cast<std::size_t>(
      read_bound(t, where, "max_messages", 1, max_history_messages,
                 static_cast<std::int64_t>(rule.max_messages)));
  rule.max_age = std::chrono::seconds(
      read_bound(t, where, "max_age_seconds", 0, max_history_age, rule.max_age.count()));
  return rule;
}

}  // namespace

void read_history(const toml::table& root, settings& out) {
  const toml::node* node = root.get("history");
  if (!node) return;
  const toml::array* tables = node->as_array();
  if (!tables || !tables->is_array_of_tables()) {
    throw config_error("[[history]]: expected tables, e.g. [[history]] pattern = \"/topic/room.*\"");
  }
  std::size_t n = 0;
  for (const toml::node& t : *tables) {
    const std::string where = "[[history]] #" + std::to_string(++n);
    out.broker.history.push_back(read_rule(*t.as_table(), where));
  }
}

}  // namespace app::detail
