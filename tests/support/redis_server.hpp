#pragma once
// A redis-server child process for tests: a free port on 127.0.0.1, AOF with fsync on every
// write in a directory the test owns, no RDB snapshots. Started, killed and restarted by pid.

#include <sys/types.h>

#include <string>
#include <vector>

namespace test_support {

/// One redis-server process. Not thread-safe; stops (SIGKILL) the process at destruction.
class redis_server {
 public:
  /// Where redis-server is on PATH; empty when it is not installed (tests GTEST_SKIP then).
  static std::string executable();

  /// Picks a free port; does not start (call start()). `dir` holds the AOF and the log.
  explicit redis_server(std::string dir);
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  /// Starts on the same port and dir as before and waits until PING answers PONG (the AOF is
  /// loaded). Throws std::runtime_error (with the log's tail) if it does not come up.
  void start();
  /// SIGKILL and reap: as a crash, nothing flushed beyond what the AOF already has.
  void kill();
  /// SIGSTOP / SIGCONT: the server holds connections but answers nothing (a hung server).
  void pause();
  void resume();  ///< undoes pause()

  /// Extra redis-server arguments for every later start(): `{"--requirepass", "pw"}`, an ACL
  /// user `{"--user", "alice", "on", ">secret", "~*", "&*", "+@all"}`...
  void add_args(std::vector<std::string> args);
  /// Serves TLS too, on tls_port(), with these PEM files; clients need no certificate.
  void enable_tls(const std::string& cert, const std::string& key, const std::string& ca);

  /// Runs as a Sentinel (redis-server --sentinel) watching master `name` at 127.0.0.1:`port`
  /// (quorum 1); call before start(). Its configuration file is written in `dir`.
  void sentinel_of(const std::string& name, int master_port);

  bool running() const { return pid_ > 0; }  ///< started and not killed
  int tls_port() const { return tls_port_; }  ///< 0 unless enable_tls()
  int port() const { return port_; }         ///< the TCP port on 127.0.0.1
  std::string url() const;                   ///< "redis://127.0.0.1:{port}"

 private:
  bool answers_ping() const;
  std::string log_tail() const;

  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;
  std::vector<std::string> extra_;
  std::vector<std::string> leading_;  // before the options: a configuration file, --sentinel
  pid_t pid_ = -1;
};

}  // namespace test_support
