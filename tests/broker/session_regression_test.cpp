// Regressions found by fuzz/session_fuzzer.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "stomp/parser.hpp"

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
    if (!closed) sent_bytes.push_back(bytes);
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
  std::vector<std::string> sent_bytes;   // the whole frames written before close()
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

// The one frame `bytes` holds, parsed as a client of version `v` would; fails the test otherwise.
stomp::frame parse_whole(const std::string& bytes, stomp::version v) {
  stomp::parser p(stomp::limits{});
  p.set_version(v);
  std::string_view in = bytes;
  stomp::frame f;
  EXPECT_EQ(p.feed(in, f), stomp::parse_status::frame) << bytes;
  EXPECT_TRUE(in.empty()) << bytes;
  return f;
}

using namespace std::string_literals;
// A 1.2 SEND whose header name holds an escaped LF (`rec\npt`), next to a plain header.
const std::string send_with_escaped_lf =
    "SEND\ndestination:/user/bob/queue/n\nrec\\npt:a\nplain:1\n\nhi\0"s;

// The MESSAGE bob (STOMP 1.0) got: one whole 1.0 frame, without the header 1.0 cannot carry.
void expect_readable_by_1_0(const closing_connection& bob) {
  ASSERT_EQ(bob.sent, (std::vector<std::string>{"CONNECTED", "MESSAGE"}));
  const stomp::frame m = parse_whole(bob.sent_bytes[1], stomp::version::v1_0);
  EXPECT_EQ(m.get("plain"), "1");
  EXPECT_EQ(m.body, "hi");
  for (const stomp::header& h : m.headers) EXPECT_EQ(h.name.find('\n'), std::string::npos);
}

struct two_users {
  broker::broker b{broker::config{}};
  std::shared_ptr<closing_connection> alice_conn = std::make_shared<closing_connection>();
  std::shared_ptr<closing_connection> bob_conn = std::make_shared<closing_connection>();
  std::shared_ptr<broker::session> alice = b.open_session(alice_conn);
  std::shared_ptr<broker::session> bob = b.open_session(bob_conn);

  void settle() {
    b.flush();
    alice_conn->drain();
    bob_conn->drain();
  }
  void connect_bob_1_0_and_subscribe() {
    bob->on_bytes("CONNECT\nlogin:bob\n\n\0"s +
                  "SUBSCRIBE\nid:u\ndestination:/user/queue/n\nack:client-individual\n\n\0"s);
    settle();
  }
  ~two_users() {
    alice->on_closed(broker::close_reason::normal);
    bob->on_closed(broker::close_reason::normal);
  }
};

// fuzz/corpus/session/escaped_lf_header_to_1_0: replayed from bob's backlog, the MESSAGE had a
// raw LF inside a header name, which no 1.0 client can parse.
TEST(SessionRegression, BacklogMessageToA10SessionLeavesOutAHeaderItCannotCarry) {
  two_users t;
  t.alice->on_bytes("CONNECT\naccept-version:1.2\nlogin:alice\n\n\0"s + send_with_escaped_lf);
  t.settle();
  t.connect_bob_1_0_and_subscribe();
  expect_readable_by_1_0(*t.bob_conn);
}

TEST(SessionRegression, LiveMessageToA10SessionLeavesOutAHeaderItCannotCarry) {
  two_users t;
  t.connect_bob_1_0_and_subscribe();
  t.alice->on_bytes("CONNECT\naccept-version:1.2\nlogin:alice\n\n\0"s + send_with_escaped_lf);
  t.settle();
  expect_readable_by_1_0(*t.bob_conn);
}

}  // namespace
