// Regressions found by fuzz/session_fuzzer.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"

namespace {

// Like transport's connection_base (and unlike fake_connection): posted work still runs after
// close() until the transport reports the close finished, so a session must itself stop
// writing once it has closed.
class closing_connection final : public broker::connection {
 public:
  void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
  void send(broker::outgoing frame) override {
    const std::string bytes = frame.head + (frame.tail ? *frame.tail : std::string());
    (closed ? after_close : sent).push_back(bytes.substr(0, bytes.find('\n')));
  }
  void close(broker::close_reason) override { closed = true; }
  void connected(std::chrono::milliseconds, std::chrono::milliseconds) override {}
  const broker::peer_info& peer() const noexcept override { return peer_; }

  void drain() {
    while (!posted.empty()) {
      auto fn = std::move(posted.front());
      posted.pop_front();
      fn();
    }
  }

  std::deque<std::function<void()>> posted;
  std::vector<std::string> sent;         // commands written before close()
  std::vector<std::string> after_close;  // commands written after close()
  bool closed = false;

 private:
  broker::peer_info peer_{"tcp", "127.0.0.1:1", "", ""};
};

// fuzz/corpus/session/durable_then_garbage: a durable SEND with a receipt, then bad bytes in the
// same read. The ERROR closes the session; the store's commit completes afterwards and its
// RECEIPT must not follow the ERROR.
TEST(SessionRegression, NoReceiptAfterErrorForAStoreCompletingLater) {
  broker::broker b{broker::config{}};
  auto conn = std::make_shared<closing_connection>();
  auto session = b.open_session(conn);
  using namespace std::string_literals;
  session->on_bytes("CONNECT\naccept-version:1.2\nlogin:alice\n\n\0"s +
                    "SEND\ndestination:/user/bob/queue/x\nreceipt:r\n\nm\0"s + "BAD\n\n\0"s);
  b.flush();
  conn->drain();
  EXPECT_EQ(conn->sent, (std::vector<std::string>{"CONNECTED", "ERROR"}));
  EXPECT_TRUE(conn->closed);
  EXPECT_EQ(conn->after_close, std::vector<std::string>{});
  session->on_closed(broker::close_reason::protocol_error);
}

}  // namespace
