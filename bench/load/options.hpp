#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/load/stomp_client.hpp"

namespace load {

/// Every stompbox-bench flag, with its default. Filled by main from the command line.
struct options {
  std::string scenario;            ///< fanout | notify | queue | idle
  target where;                    ///< broker address (--url or --tcp; the first when several)
  /// Every broker address given (--url / --tcp more than once or as a comma list, e.g. the
  /// nodes of a cluster): connections take them in turn. Never empty after parsing.
  std::vector<target> targets;
  std::string login;               ///< empty: user<i> / publisher<j>
  std::string name_prefix;         ///< prepended to user<i>/subscriber<i>/publisher<j> (several
                                   ///< generator processes on one broker)
  std::string passcode = "guest";  ///< passcode for every connection
  std::string destination = "/topic/bench";  ///< fanout topic; queue: the queue
  /// notify: what each user subscribes to and where publishers send; {user} is replaced by the
  /// user's name (RabbitMQ: /queue/{user}-notifications for both).
  std::string user_subscribe = "/user/queue/notifications";
  std::string user_send = "/user/{user}/queue/notifications";
  std::size_t subscribers = 10;    ///< fanout: subscriber connections; queue: consumers
  std::size_t users = 1000;        ///< notify: user connections
  std::size_t publishers = 1;      ///< publisher connections (fanout default 1, notify 4)
  double rate = 0;                 ///< total offered msg/s; 0 = as fast as the broker accepts
  double duration = 10;            ///< seconds of publishing
  double drain = 5;                ///< seconds to wait for stragglers without progress
  std::size_t size = 100;          ///< body bytes (at least the sequence fields)
  std::size_t window = 10000;      ///< deliveries in flight (sent, not yet received)
  unsigned threads = 1;            ///< client io threads
  std::size_t connections = 1000;  ///< idle: connections
  double hold = 10;                ///< idle: seconds to hold them
  std::size_t parallel = 256;      ///< connections being set up at once during a ramp
  int broker_pid = 0;              ///< for RSS / CPU readings (0: none)
  std::string heart_beat = "10000,10000";  ///< idle: heart-beat header of CONNECT
  std::size_t storm = 0;           ///< fanout: login-storm clients while publishing (0: none)
  std::size_t storm_users = 20;    ///< distinct storm logins: storm0..
  double storm_interval = 1;       ///< seconds between one storm client's logins
  bool json = false;               ///< print one JSON line of results
};

}  // namespace load
