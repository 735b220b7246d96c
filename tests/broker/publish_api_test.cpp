// broker::api_publish (the HTTP publish endpoint's broker side): statuses, idempotency, and the
// stats counters it moves.
#include <gtest/gtest.h>

#include <optional>

#include "auth/password.hpp"
#include "auth/users_file.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::publish_request;
using broker::publish_result;
using broker::publish_status;

struct PublishApi : users {
  PublishApi() {
    auto hash = [](const char* pw) { return auth::hash_password(pw, auth::min_pbkdf2_iterations); };
    broker::config cfg;
    cfg.authenticator = std::make_shared<auth::users_file_authenticator>(
        std::vector<auth::user_record>{{"alice", hash("alice-pw"), {"user"}},
                                       {"backend", hash("backend-pw"), {"publisher"}}});
    cfg.frame_limits.max_body = 1024;
    cfg.clock = [this] { return std::chrono::system_clock::now() + skew; };
    start(cfg);
  }
  /// Publishes and waits for the result (user queues complete on the store's thread).
  publish_result publish(const std::string& login, const std::string& password,
                         publish_request r, const std::string& key = "") {
    std::optional<publish_result> out;
    std::mutex m;
    b->api_publish(broker::credentials{login, password, "", "10.0.0.1:1"}, std::move(r), key,
                   [&](publish_result res) {
                     std::lock_guard lock(m);
                     out = std::move(res);
                   });
    settle_until([&] {
      std::lock_guard lock(m);
      return out.has_value();
    });
    std::lock_guard lock(m);
    EXPECT_TRUE(out) << "done was not called";
    return out.value_or(publish_result{});
  }
  publish_result as_backend(publish_request r, const std::string& key = "") {
    return publish("backend", "backend-pw", std::move(r), key);
  }
  client& alice() {
    clients.push_back(std::make_unique<client>(*b, q));
    clients.back()->connect("1.2", {{"login", "alice"}, {"passcode", "alice-pw"}});
    subscribe(*clients.back(), "/user/queue/inbox");
    return *clients.back();
  }
  std::chrono::minutes skew{0};
};

TEST_F(PublishApi, AcceptedMessagesReachTheUser) {
  client& tab = alice();
  const publish_result r =
      as_backend({"/user/alice/queue/inbox", {{"content-type", "text/plain"}}, "hello"});
  EXPECT_EQ(r.status, publish_status::accepted) << r.error;
  EXPECT_FALSE(r.message_id.empty());
  const auto msgs = tab.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].get("message-id"), r.message_id);
  EXPECT_EQ(msgs[0].get("content-type"), "text/plain");
  EXPECT_EQ(msgs[0].body, "hello");
  EXPECT_EQ(as_backend({"/topic/news", {}, "t"}).status, publish_status::accepted);
}

TEST_F(PublishApi, WrongCredentialsAreUnauthorized) {
  const publish_result r = publish("backend", "wrong", {"/topic/news", {}, "x"});
  EXPECT_EQ(r.status, publish_status::unauthorized);
  EXPECT_EQ(r.error, "access refused");
  EXPECT_TRUE(r.message_id.empty());
  EXPECT_EQ(b->stats().auth_failures.load(), 1u);
}

TEST_F(PublishApi, OtherUsersDestinationsNeedThePublisherRole) {
  const publish_result r = publish("alice", "alice-pw", {"/user/bob/queue/inbox", {}, "x"});
  EXPECT_EQ(r.status, publish_status::forbidden);
  EXPECT_NE(r.error.find("/user/bob/queue/inbox"), std::string::npos);
  EXPECT_EQ(publish("alice", "alice-pw", {"/topic/news", {}, "x"}).status,
            publish_status::accepted);
}

TEST_F(PublishApi, BadRequests) {
  for (publish_request r : {publish_request{"", {}, "x"}, publish_request{"/exchange/x", {}, "x"},
                            publish_request{"/topic/#", {}, "x"},
                            publish_request{"/user/queue/x", {}, "x"},
                            publish_request{"/user/%2e%2e/queue/x", {}, "x"},
                            publish_request{"/topic/a", {{"expires", "soon"}}, "x"},
                            publish_request{"/topic/a", {{"", "v"}}, "x"},
                            publish_request{"/topic/a", {{"x-a", "line\nbreak"}}, "x"}}) {
    const publish_result res = as_backend(r);
    EXPECT_EQ(res.status, publish_status::bad_request) << r.destination;
    EXPECT_FALSE(res.error.empty());
  }
}

TEST_F(PublishApi, BodyOverTheFrameLimitIsTooLarge) {
  EXPECT_EQ(as_backend({"/topic/a", {}, std::string(1025, 'x')}).status,
            publish_status::too_large);
  EXPECT_EQ(as_backend({"/topic/a", {}, std::string(1024, 'x')}).status,
            publish_status::accepted);
}

TEST_F(PublishApi, IdempotencyKeyPublishesOnce) {
  client& tab = alice();
  const publish_request r{"/user/alice/queue/inbox", {}, "once"};
  const publish_result first = as_backend(r, "k1");
  const publish_result retry = as_backend(r, "k1");
  EXPECT_EQ(first.status, publish_status::accepted);
  EXPECT_EQ(retry.status, publish_status::accepted);
  EXPECT_EQ(retry.message_id, first.message_id);
  EXPECT_EQ(bodies(tab), strings{"once"});
  const publish_result other = as_backend(r, "k2");
  EXPECT_NE(other.message_id, first.message_id);
  // Keys belong to the caller: alice's "k1" is not the backend's.
  const publish_result hers = publish("alice", "alice-pw", {"/topic/a", {}, "x"}, "k1");
  EXPECT_NE(hers.message_id, first.message_id);
  EXPECT_EQ(bodies(tab), strings{"once"});
}

TEST_F(PublishApi, IdempotencyKeyReusedForAnotherRequestIsRefused) {
  client& tab = alice();
  const publish_request r{"/user/alice/queue/inbox", {{"x-a", "1"}}, "first"};
  const publish_result first = as_backend(r, "k1");
  ASSERT_EQ(first.status, publish_status::accepted);
  for (const publish_request& other :
       {publish_request{"/user/alice/queue/inbox", {{"x-a", "1"}}, "second"},
        publish_request{"/user/alice/queue/other", {{"x-a", "1"}}, "first"},
        publish_request{"/user/alice/queue/inbox", {{"x-a", "2"}}, "first"},
        publish_request{"/user/alice/queue/inbox", {}, "first"}}) {
    const publish_result res = as_backend(other, "k1");
    EXPECT_EQ(res.status, publish_status::key_reused) << other.destination << " " << other.body;
    EXPECT_TRUE(res.message_id.empty());
    EXPECT_NE(res.error.find("\"k1\""), std::string::npos) << res.error;
  }
  // The same request is still a retry: the first id, nothing sent again.
  EXPECT_EQ(as_backend(r, "k1").message_id, first.message_id);
  EXPECT_EQ(bodies(tab), strings{"first"});
}

TEST_F(PublishApi, IdempotencyKeyIsForgottenAfterTheWindow) {
  const publish_request r{"/topic/a", {}, "x"};
  const publish_result first = as_backend(r, "k");
  skew = std::chrono::minutes(11);
  const publish_result later = as_backend(r, "k");
  EXPECT_EQ(later.status, publish_status::accepted);
  EXPECT_NE(later.message_id, first.message_id);
}

TEST_F(PublishApi, RetryWhileTheFirstIsBeingStoredGetsTheSameId) {
  std::vector<publish_result> results;
  std::mutex m;
  const publish_request r{"/user/alice/queue/inbox", {}, "x"};
  for (int i = 0; i < 2; ++i) {
    b->api_publish(broker::credentials{"backend", "backend-pw", "", ""}, r, "same",
                   [&](publish_result res) {
                     std::lock_guard lock(m);
                     results.push_back(std::move(res));
                   });
  }
  settle_until([&] {
    std::lock_guard lock(m);
    return results.size() == 2;
  });
  std::lock_guard lock(m);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].message_id, results[1].message_id);
  EXPECT_EQ(b->stats().messages_stored.load(), 1u);
}

TEST_F(PublishApi, StatsCountFramesAndMessages) {
  client& tab = alice();
  as_backend({"/user/alice/queue/inbox", {}, "x"});
  const auto& s = b->stats();
  EXPECT_EQ(s.sessions.load(), 1);
  EXPECT_EQ(s.subscriptions.load(), 1);
  EXPECT_EQ(s.messages_published.load(), 1u);
  EXPECT_EQ(s.messages_delivered.load(), 1u);
  EXPECT_EQ(s.frames_in[static_cast<std::size_t>(broker::client_command::connect)].load(), 1u);
  EXPECT_EQ(s.frames_in[static_cast<std::size_t>(broker::client_command::subscribe)].load(), 1u);
  EXPECT_EQ(s.frames_out[static_cast<std::size_t>(broker::server_command::connected)].load(), 1u);
  EXPECT_EQ(s.frames_out[static_cast<std::size_t>(broker::server_command::message)].load(), 1u);
  tab.send(make("DISCONNECT"));
  EXPECT_EQ(s.closes[static_cast<std::size_t>(broker::close_reason::normal)].load(), 1u);
  EXPECT_EQ(s.subscriptions.load(), 0);
}

}  // namespace
