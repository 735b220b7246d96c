#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace test_support {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Bind port 0, read the port the kernel chose, close: free right now (a race with another
// process is possible but unlikely; start() then fails loudly).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

std::string redis_server::executable() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

redis_server::redis_server(std::string dir) : dir_(std::move(dir)), port_(free_port()) {}

redis_server::~redis_server() {
  if (pid_ > 0) kill();
}

std::string redis_server::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

void redis_server::start() {
  if (pid_ > 0) throw std::runtime_error("redis-server already running");
  const std::string exe = executable();
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  std::vector<std::string> args{exe,  "--port",       port,  "--bind",        "127.0.0.1", "--save",
                                "",   "--appendonly", "yes", "--appendfsync", "always",    "--dir",
                                dir_, "--logfile",    log,   "--daemonize",   "no"};
  args.insert(args.begin() + 1, leading_.begin(), leading_.end());
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::vector<char*> argv;  // built before fork: the child only calls exec
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start:\n" + log_tail());
    }
    if (answers_ping()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill();
  throw std::runtime_error("redis-server did not answer PING:\n" + log_tail());
}

void redis_server::add_args(std::vector<std::string> args) {
  extra_.insert(extra_.end(), args.begin(), args.end());
}

void redis_server::enable_tls(const std::string& cert, const std::string& key,
                              const std::string& ca) {
  tls_port_ = free_port();
  add_args({"--tls-port", std::to_string(tls_port_), "--tls-cert-file", cert, "--tls-key-file", key,
            "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"});
}

void redis_server::sentinel_of(const std::string& name, int master_port) {
  const std::string conf = dir_ + "/sentinel.conf";
  std::ofstream(conf) << "sentinel monitor " << name << " 127.0.0.1 " << master_port << " 1\n"
                      << "sentinel down-after-milliseconds " << name << " 1000\n";
  leading_ = {conf, "--sentinel"};
}

void redis_server::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server must not linger
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void redis_server::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void redis_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

// PONG only once the AOF is loaded (before that Redis answers -LOADING); a server that wants a
// password answers -NOAUTH once loaded.
bool redis_server::answers_ping() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a = loopback(port_);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char buf[64] = {};
    const auto n = ::recv(fd, buf, sizeof buf - 1, 0);
    const std::string reply(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    ok = reply.rfind("+PONG", 0) == 0 || reply.rfind("-NOAUTH", 0) == 0;
  }
  ::close(fd);
  return ok;
}

std::string redis_server::log_tail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

}  // namespace test_support
