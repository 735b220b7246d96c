#include "tests/transport/sockjs_client.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>

#include "stomp/serializer.hpp"
#include "transport/sockjs/sockjs_frame.hpp"

namespace sockjs_test {

namespace net = boost::asio;
using error_code = boost::system::error_code;

raw_http::raw_http(std::uint16_t port) : socket_(ioc_) {
  socket_.connect({net::ip::make_address("127.0.0.1"), port});
}

void raw_http::send(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

bool raw_http::read_some(std::chrono::steady_clock::time_point deadline) {
  std::array<char, 4096> buf;
  bool finished = false;
  error_code ec;
  std::size_t n = 0;
  socket_.async_read_some(net::buffer(buf), [&](const error_code& e, std::size_t k) {
    ec = e, n = k, finished = true;
  });
  ioc_.restart();
  ioc_.run_until(deadline);
  if (!finished) {  // timed out: cancel and let the handler run before `buf` goes
    socket_.cancel();
    ioc_.restart();
    ioc_.run();
    return false;
  }
  if (ec) closed_ = true;
  data_.append(buf.data(), n);
  return true;
}

bool raw_http::read_until(const std::function<bool(const std::string&)>& done,
                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(data_)) {
    if (closed_ || !read_some(deadline)) return false;
  }
  return true;
}

bool raw_http::read_to_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    if (!read_some(deadline)) return false;
  }
  return true;
}

std::string reply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

reply parse_reply(const std::string& raw) {
  reply r;
  const auto end = raw.find("\r\n\r\n");
  const std::string head = raw.substr(0, end);
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  std::size_t pos = head.find("\r\n");
  if (head.size() > 12) r.status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));
  while (pos != std::string::npos) {
    const auto next = head.find("\r\n", pos + 2);
    const auto line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  return r;
}

std::string request(const std::string& method, const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& origin) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!origin.empty()) out += "Origin: " + origin + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (method == "POST" || !body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

reply call(std::uint16_t port, const std::string& method, const std::string& target,
           const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers) {
  raw_http h(port);
  h.send(request(method, target, body, headers));
  h.read_to_close();
  return parse_reply(h.data());
}

std::string json_array(const std::vector<std::string>& strings) {
  std::string out = "[";
  for (const auto& s : strings) {
    if (out.size() > 1) out += ',';
    transport::detail::append_sockjs_string(out, s);
  }
  return out + "]";
}

std::optional<std::vector<std::string>> messages_of(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  if (frame.size() < 3 || frame[0] != 'a') return std::nullopt;
  std::vector<std::string> out;
  if (!transport::detail::parse_sockjs_messages(std::string_view(frame).substr(1), out))
    return std::nullopt;
  return out;
}

std::vector<stomp::frame> frames_of(const std::string& bytes) {
  stomp::parser p;
  std::vector<stomp::frame> out;
  std::string_view in(bytes);
  stomp::frame f;
  while (p.feed(in, f) == stomp::parse_status::frame) out.push_back(f);
  return out;
}

poller::poller(std::uint16_t port, std::string session) : port_(port), session_(std::move(session)) {}

std::string poller::base() const { return "/sockjs/000/" + session_; }

std::string poller::poll() { return call(port_, "POST", base() + "/xhr").body; }

unsigned poller::send(const stomp::frame& f) {
  return call(port_, "POST", base() + "/xhr_send",
              json_array({stomp::serialize(f, stomp::version::v1_2)}))
      .status;
}

std::optional<stomp::frame> poller::next_frame() {
  for (int polls = 0; polls < 20; ++polls) {
    std::string_view in(pending_);
    stomp::frame f;
    const auto status = parser_.feed(in, f);
    pending_ = std::string(in);
    if (status == stomp::parse_status::frame) return f;
    if (status == stomp::parse_status::error) return std::nullopt;
    const auto body = poll();
    if (body.rfind("c[", 0) == 0) {
      last_close_ = body;
      return std::nullopt;
    }
    if (auto m = messages_of(body)) {
      for (auto& s : *m) pending_ += s;
    } else if (body != "h\n" && body != "o\n") {
      return std::nullopt;  // neither a frame, a heart-beat nor the open frame: give up
    }
  }
  return std::nullopt;
}

}  // namespace sockjs_test
