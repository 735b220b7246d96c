#include "transport/console/console_json.hpp"

#include <charconv>
#include <numeric>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace transport::console {

namespace {

namespace json = boost::json;

std::int64_t ms_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Strings from peers (users, addresses) go in as JSON strings: Boost.JSON escapes them, and the
// page puts them in the DOM as text only.
json::object cut_json(const connection_cut& c) {
  return {{"time_ms", ms_of(c.when)},
          {"remote", c.remote},
          {"user", c.user},
          {"transport", c.transport},
          {"reason", broker::to_string(c.reason)}};
}

template <class Array>
std::uint64_t sum(const Array& a) {
  return std::accumulate(a.begin(), a.end(), std::uint64_t{0},
                         [](std::uint64_t t, auto v) { return t + static_cast<std::uint64_t>(v); });
}

double sample(std::string_view text, std::string_view name, double missing) {
  std::size_t at = 0;
  while ((at = text.find(name, at)) != std::string_view::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    const std::size_t value = at + name.size();
    at = value;
    if (!line_start || value >= text.size() || text[value] != ' ') continue;
    const auto end = text.find('\n', value);
    const auto digits = text.substr(value + 1, end == std::string_view::npos ? end : end - value - 1);
    double v = missing;
    std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return v;
  }
  return missing;
}

}  // namespace

cluster_view parse_cluster(std::string_view text) {
  cluster_view c;
  c.enabled = !text.empty();
  if (!c.enabled) return c;
  c.up = sample(text, "stompbox_cluster_redis_up", 0) == 1;
  c.rtt_seconds = sample(text, "stompbox_cluster_redis_rtt_seconds", -1);
  return c;
}

std::string overview_json(const detail::metrics_snapshot& s, const overview_extra& extra) {
  json::object by_transport;
  for (std::size_t i = 0; i < transport_names.size(); ++i) {
    by_transport[transport_names[i]] = s.connections[i];
  }
  json::array cuts;
  for (const auto& c : extra.cuts) cuts.push_back(cut_json(c));
  const json::object doc{
      {"version", transport::version()},
      {"uptime_ms", extra.uptime.count()},
      {"time_ms", extra.now_ms},
      {"ready", extra.ready},
      {"connections", {{"by_transport", by_transport},
                       {"open", sum(s.connections)},
                       {"accepted", s.accepted},
                       {"refused", sum(s.refused)}}},
      {"sessions", s.sessions},
      {"subscriptions", s.subscriptions},
      {"messages", {{"published", s.published},
                    {"delivered", s.delivered},
                    {"stored", s.stored},
                    {"dropped", s.dropped},
                    {"expired", s.expired}}},
      {"frames", {{"in", sum(s.frames_in)}, {"out", sum(s.frames_out)}}},
      {"store", {{"writable", s.store_writable},
                 {"last_commit_latency_us", s.store.last_commit_latency.count()},
                 {"appended", s.store.appended},
                 {"append_failures", s.store.append_failures},
                 {"commit_batches", s.store.commit_batches}}},
      {"held_bytes", {{"used", s.held_bytes}, {"limit", s.held_bytes_limit}}},
      {"cuts", {{"slow_consumers", s.slow_consumers},
                {"heartbeat_timeouts",
                 s.closes[static_cast<std::size_t>(broker::close_reason::heartbeat_timeout)]},
                {"recent", cuts}}},
      {"cluster", {{"enabled", extra.cluster.enabled},
                   {"up", extra.cluster.up},
                   {"rtt_seconds", extra.cluster.rtt_seconds}}},
  };
  return json::serialize(doc);
}

std::string connections_json(const connection_list& list) {
  json::array items;
  for (const auto& c : list.connections) {
    items.push_back(json::object{
        {"id", c.id},
        {"transport", c.transport},
        {"remote", c.remote},
        {"session", c.session},
        {"user", c.user},
        {"connected", c.connected},
        {"age_ms", c.age.count()},
        {"subscriptions", c.subscriptions},
        {"pending_bytes", c.pending_bytes},
        {"heartbeat", {{"send_ms", c.heartbeat_send.count()},
                       {"expect_ms", c.heartbeat_expect.count()}}},
    });
  }
  return json::serialize(json::object{{"total", list.total}, {"connections", items}});
}

std::string destinations_json(const broker::destination_list& list) {
  json::array items;
  for (const auto& d : list.destinations) {
    json::object o{{"name", d.name},
                   {"kind", d.kind},
                   {"subscribers", d.subscribers},
                   {"messages_in", d.messages_in},
                   {"messages_out", d.messages_out}};
    if (d.kind == "queue") {
      o["waiting"] = d.waiting;
      o["in_flight"] = d.in_flight;
    }
    items.push_back(std::move(o));
  }
  return json::serialize(json::object{{"total", list.total}, {"destinations", items}});
}

std::string inboxes_json(const std::vector<broker::inbox_summary>& inboxes, std::int64_t now_ms) {
  json::array items;
  for (const auto& i : inboxes) {
    items.push_back(json::object{{"user", i.user},
                                 {"messages", i.messages},
                                 {"queues", i.queues},
                                 {"oldest_age_ms", now_ms - i.oldest_stored_at_ms}});
  }
  return json::serialize(json::object{{"available", true}, {"inboxes", items}});
}

}  // namespace transport::console
