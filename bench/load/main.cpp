// stompbox-bench: load generator for STOMP brokers over WebSocket or TCP (see
// docs/benchmarks.md, section "Broker"). Exit codes: see load::exit_code.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/load/fleet.hpp"
#include "bench/load/options.hpp"
#include "bench/load/process_stats.hpp"
#include "bench/load/scenarios.hpp"

namespace {

using address_list = std::vector<std::string>;

void add_flags(CLI::App& cli, load::options& o, address_list& urls, address_list& tcps) {
  cli.add_option("scenario", o.scenario, "fanout | notify | queue | idle")->required()
      ->check(CLI::IsMember({"fanout", "notify", "queue", "idle"}));
  cli.add_option("--url", urls, "WebSocket URL [ws://127.0.0.1:15674/ws]; several (repeat "
                 "or comma list): connections take them in turn")->delimiter(',');
  cli.add_option("--tcp", tcps, "STOMP over TCP HOST:PORT instead of WebSocket; several as "
                 "for --url")->delimiter(',');
  cli.add_option("--login", o.login, "login for every connection [user<i>, publisher<j>...]");
  cli.add_option("--name-prefix", o.name_prefix, "prefix of generated logins/user names");
  cli.add_option("--passcode", o.passcode, "passcode [guest]");
  cli.add_option("--destination", o.destination,
                 "fanout/idle topic [/topic/bench]; queue: the queue [/queue/bench]");
  cli.add_option("--user-subscribe", o.user_subscribe,
                 "notify: what user {user} subscribes to [/user/queue/notifications]");
  cli.add_option("--user-send", o.user_send,
                 "notify: where publishers send for {user} [/user/{user}/queue/notifications]");
  cli.add_option("--subscribers", o.subscribers, "fanout: subscribers, queue: consumers [10]");
  cli.add_option("--users", o.users, "notify: users [1000]");
  cli.add_option("--publishers", o.publishers, "publishers [fanout 1, notify and queue 4]");
  cli.add_option("--rate", o.rate, "offered msg/s in total; 0 = max [0]");
  cli.add_option("--duration", o.duration, "seconds of publishing [10]");
  cli.add_option("--drain", o.drain, "seconds without progress before counting losses [5]");
  cli.add_option("--size", o.size, "body bytes [100]");
  cli.add_option("--window", o.window, "deliveries in flight at most [10000; fanout: at least 16 x subscribers]");
  cli.add_option("--threads", o.threads, "client io threads [1]")->check(CLI::Range(1u, 64u));
  cli.add_option("--connections", o.connections, "idle: connections [1000]");
  cli.add_option("--storm", o.storm, "fanout: clients logging in again and again (with "
                 "--passcode as storm<k>) while publishing [0]");
  cli.add_option("--storm-users", o.storm_users, "distinct storm logins storm0.. [20]")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  cli.add_option("--storm-interval", o.storm_interval,
                 "seconds between one storm client's logins [1]")->check(CLI::PositiveNumber);
  cli.add_option("--hold", o.hold, "idle: seconds to hold them [10]");
  cli.add_option("--parallel", o.parallel, "connections set up at once [256]")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  cli.add_option("--broker-pid", o.broker_pid, "broker pid for RSS/CPU readings");
  cli.add_option("--heart-beat", o.heart_beat, "idle: CONNECT heart-beat [10000,10000]");
  cli.add_flag("--json", o.json, "print one JSON line of results");
}

/// Fills o.targets (and o.where, the first) from --tcp when given, else --url. False when
/// an address is malformed.
bool parse_targets(const address_list& urls, const address_list& tcps, load::options& o) {
  const bool tcp = !tcps.empty();
  for (const auto& a : tcp ? tcps : urls) {
    load::target t;
    if (!(tcp ? load::parse_tcp_address(a, t) : load::parse_ws_url(a, t))) return false;
    o.targets.push_back(t);
  }
  if (o.targets.empty()) return false;
  o.where = o.targets.front();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  load::options o;
  address_list urls, tcps;
  CLI::App cli{"stompbox-bench: STOMP broker load generator"};
  add_flags(cli, o, urls, tcps);
  bool publishers_given = false, destination_given = false;
  try {
    cli.parse(argc, argv);
    publishers_given = cli.count("--publishers") > 0;
    destination_given = cli.count("--destination") > 0;
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (urls.empty()) urls.push_back("ws://127.0.0.1:15674/ws");
  if (!parse_targets(urls, tcps, o)) {
    std::fprintf(stderr, "stompbox-bench: bad --url or --tcp\n");
    return load::exit_failure;
  }
  if ((o.scenario == "notify" || o.scenario == "queue") && !publishers_given) o.publishers = 4;
  if (o.scenario == "queue" && !destination_given) o.destination = "/queue/bench";
  load::raise_fd_limit();
  try {
    if (o.scenario == "fanout") return load::run_fanout(o);
    if (o.scenario == "notify") return load::run_notify(o);
    if (o.scenario == "queue") return load::run_queue(o);
    return load::run_idle(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stompbox-bench: %s\n", e.what());
    return load::exit_failure;
  }
}
