// stompbox embedded in an application: the broker and its WebSocket + TCP listeners run on the
// application's own io_context threads, and the application pushes a notification to a user
// every second, as Spring's convertAndSendToUser would.
//
//   stompbox_embed WS_PORT TCP_PORT SECONDS [USER]
//
// Ports may be 0 (a free port is picked); the line "listening ws=N tcp=M" on stdout says which.
// Any STOMP client logged in as USER (default "alice"; development mode: no password) that
// subscribes to /user/queue/notifications receives them; ones sent while it was offline wait
// in its (in-memory) durable queue.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"
#include "transport/server.hpp"

namespace {

struct options {
  unsigned short ws_port = 0;
  unsigned short tcp_port = 0;
  int seconds = 5;
  std::string user = "alice";
};

bool parse(int argc, char** argv, options& o) {
  if (argc < 4 || argc > 5) return false;
  o.ws_port = static_cast<unsigned short>(std::strtoul(argv[1], nullptr, 10));
  o.tcp_port = static_cast<unsigned short>(std::strtoul(argv[2], nullptr, 10));
  o.seconds = std::atoi(argv[3]);
  if (argc == 5) o.user = argv[4];
  return o.seconds > 0 && !o.user.empty();
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(stderr, "usage: %s WS_PORT TCP_PORT SECONDS [USER]\n", argv[0]);
    return 2;
  }
  // No authenticator: development mode (any login). A real application sets
  // cfg.authenticator (auth::make_authenticator) and cfg.store (broker::store::sqlite_store).
  broker::config cfg;
  broker::broker broker(cfg);  // outlives the io_context and every connection

  boost::asio::io_context ioc;
  transport::server_config scfg;
  scfg.ws_host = scfg.tcp_host = "127.0.0.1";
  scfg.ws_port = opt.ws_port;
  scfg.tcp_port = opt.tcp_port;
  transport::server server(ioc, broker, scfg);
  server.start();
  std::printf("listening ws=%u tcp=%u\n", server.ws_port(), server.tcp_port());
  std::fflush(stdout);

  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) io_threads.emplace_back([&ioc] { ioc.run(); });

  // The application's own thread: publish_to_user is thread-safe.
  for (int n = 1; n <= opt.seconds; ++n) {
    const std::string id = broker.publish_to_user(
        opt.user, "/queue/notifications", "notification " + std::to_string(n),
        {{"content-type", "text/plain"}});
    std::printf("published %s\n", id.c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  server.stop();  // closes every connection; run() returns once they are gone
  for (auto& t : io_threads) t.join();
  broker.flush();
  return 0;
}
