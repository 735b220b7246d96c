#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "stomp/frame.hpp"
#include "stomp/parser.hpp"
#include "tests/support/stomp_client.hpp"

namespace sockjs_test {

/// One raw HTTP/1.1 exchange on its own socket: sends bytes, reads what comes, each read
/// bounded by a timeout. Not thread-safe.
class raw_http {
 public:
  explicit raw_http(std::uint16_t port);
  void send(const std::string& bytes);
  /// Reads until `done(data())` holds; false if the server closed first or on timeout.
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout = test_support::patience);
  /// Reads until the server closes; false on timeout.
  bool read_to_close(std::chrono::milliseconds timeout = test_support::patience);
  const std::string& data() const { return data_; }
  bool closed() const { return closed_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  std::string data_;
  bool closed_ = false;
};

/// A parsed HTTP response; header names lower-cased.
struct reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string header(const std::string& lower_name) const;
};

/// Splits raw response bytes (whole, or at least the head) into status, headers and body.
reply parse_reply(const std::string& raw);

/// The request bytes: Host, Origin (unless empty), Content-Length, the extra headers.
std::string request(const std::string& method, const std::string& target,
                    const std::string& body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    const std::string& origin = "http://app.example");

/// Sends one request and reads the response until the server closes the connection.
reply call(std::uint16_t port, const std::string& method, const std::string& target,
           const std::string& body = {},
           const std::vector<std::pair<std::string, std::string>>& headers = {});

/// `["<s>",...]` with SockJS escaping.
std::string json_array(const std::vector<std::string>& strings);

/// A STOMP client over SockJS's xhr polling: xhr_send to send, xhr to receive.
class poller {
 public:
  poller(std::uint16_t port, std::string session);
  /// One long poll: the response body ("o\n", "h\n", "a[...]\n", "c[...]\n").
  std::string poll();
  /// xhr_send of the frame, serialised as STOMP 1.2; returns the HTTP status.
  unsigned send(const stomp::frame& f);
  /// The next STOMP frame, polling as needed (heart-beats skipped); empty once the session
  /// answers a close frame (kept in last_close()).
  std::optional<stomp::frame> next_frame();
  const std::string& last_close() const { return last_close_; }
  std::string base() const;

 private:
  std::uint16_t port_;
  std::string session_;
  stomp::parser parser_;
  std::string pending_;
  std::string last_close_;
};

/// The STOMP bytes inside one `a[...]` frame (one string per element); empty optional when
/// `frame` is not a message frame.
std::optional<std::vector<std::string>> messages_of(std::string frame);

/// The STOMP frames in `bytes` (whole frames only).
std::vector<stomp::frame> frames_of(const std::string& bytes);

}  // namespace sockjs_test
