#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace transport::detail {

/// An answer of the metrics listener.
struct metrics_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Answers one request target (path and query) of a GET or HEAD.
using metrics_route = std::function<metrics_reply(std::string_view target)>;

/// Serves HTTP/1.1 on an accepted socket: reads requests (headers only, 8 KiB at most, 10 s
/// each), answers GET/HEAD through `route` and anything else with 405, keeps the connection
/// while the client asks to. Runs on the socket's executor; keeps itself alive.
void serve_metrics_http(boost::asio::ip::tcp::socket socket, metrics_route route);

}  // namespace transport::detail
