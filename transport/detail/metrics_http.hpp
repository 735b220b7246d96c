#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace transport::detail {

/// An answer of the metrics listener.
struct metrics_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra response headers
};

/// One request to the metrics listener: GET, HEAD or POST (a POST carries no body).
struct metrics_request {
  std::string method;         ///< "GET", "HEAD" or "POST"
  std::string target;         ///< path and query
  std::string authorization;  ///< header values; empty when absent
  std::string origin;
  std::string host;
  std::string content_type;
  std::string remote;         ///< client "ip:port"
};

/// Called exactly once with the answer to a request; from any thread.
using metrics_answer = std::function<void(metrics_reply)>;

/// Answers one request, at once or later (the console gathers from connection strands).
using metrics_route = std::function<void(metrics_request, metrics_answer)>;

/// The open connections of one metrics listener, so that stopping it also ends idle keep-alive
/// connections (a scraper's) instead of letting them hold the io_context for their timeout.
/// Thread-safe.
class metrics_connections {
 public:
  /// Registers how to close one connection; returns its key. After close_all(), `close` runs
  /// at once instead.
  std::uint64_t add(std::function<void()> close);
  /// Forgets connection `key` (it ended on its own).
  void remove(std::uint64_t key);
  /// Closes every registered connection, and every later one as it is added.
  void close_all();

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, std::function<void()>> open_;
  std::uint64_t next_ = 0;
  bool closed_ = false;
};

/// Serves HTTP/1.1 on an accepted socket: reads requests (headers only, 8 KiB at most, 10 s
/// each; a POST with a body is cut), answers GET/HEAD/POST through `route` and anything else
/// with 405, keeps the connection
/// while the client asks to. Runs on the socket's executor; keeps itself alive; registered in
/// `connections` while open.
void serve_metrics_http(boost::asio::ip::tcp::socket socket, metrics_route route,
                        std::shared_ptr<metrics_connections> connections);

}  // namespace transport::detail
