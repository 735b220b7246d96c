#pragma once
// Shared by the user-destination tests: a broker (development mode unless configured), clients
// that log in by name, and settle() = wait for the store's commits, then run what they posted.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "fake_connection.hpp"

namespace broker_test {

struct users : ::testing::Test {
  void start(broker::config cfg = {}) { b = std::make_unique<broker::broker>(std::move(cfg)); }

  /// A connected client logged in as `name` (development mode: the login is the user name).
  client& as(const std::string& name) {
    clients.push_back(std::make_unique<client>(*b, q));
    client& c = *clients.back();
    last_reply = c.connect("1.2", {{"login", name}});
    EXPECT_EQ(last_reply.command, "CONNECTED") << last_reply.body;
    return c;
  }
  /// A connected client without a login.
  client& anonymous() {
    clients.push_back(std::make_unique<client>(*b, q));
    client& c = *clients.back();
    last_reply = c.connect("1.2");
    return c;
  }
  void subscribe(client& c, const std::string& destination, const std::string& id = "s",
                 const std::string& ack = "auto") {
    c.send(make("SUBSCRIBE", {{"destination", destination}, {"id", id}, {"ack", ack}}));
    settle();
  }
  void send(client& c, const std::string& destination, const std::string& body,
            const std::string& receipt = "") {
    stomp::frame f = make("SEND", {{"destination", destination}}, body);
    if (!receipt.empty()) f.add("receipt", receipt);
    c.send(f);
    settle();
  }
  /// Everything the store committed has completed and every posted function has run.
  void settle() {
    q.drain();
    b->flush();
    q.drain();
  }
  /// settle() until `done()` holds (password checks run on the broker's login threads), at most
  /// 10 s; returns done().
  template <typename Pred>
  bool settle_until(Pred done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      settle();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  static std::vector<std::string> bodies(client& c) {
    std::vector<std::string> out;
    for (const auto& m : c.take("MESSAGE")) out.push_back(m.body);
    return out;
  }

  std::unique_ptr<broker::broker> b = std::make_unique<broker::broker>(broker::config{});
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
  stomp::frame last_reply;
};

using strings = std::vector<std::string>;

}  // namespace broker_test
