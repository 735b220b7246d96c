// A history shared by the nodes of a cluster (history::shared): the merge of the live messages
// held while the history is read with what the read found (live_after_recovery), and the
// session's recovering subscription against a fake asynchronous history that answers when the
// test says so, while live messages arrive as from the cluster link (deliver_remote).
#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "broker/detail/history_gate.hpp"
#include "broker/error.hpp"
#include "fake_connection.hpp"

namespace {

using namespace broker_test;

broker::message_ptr at(const std::string& topic, std::uint64_t offset, std::string epoch = "e") {
  broker::destination d;
  EXPECT_FALSE(broker::parse_destination(topic, d));
  broker::message_ptr m;
  EXPECT_FALSE(broker::make_message(
      make("SEND", {{"destination", topic}}, std::to_string(offset)), d, "id", m));
  return broker::with_position(m, broker::format_position(epoch, offset));
}

std::vector<broker::message_ptr> range(const std::string& topic, std::uint64_t first,
                                       std::uint64_t last, std::string epoch = "e") {
  std::vector<broker::message_ptr> out;
  for (std::uint64_t o = first; o <= last; ++o) out.push_back(at(topic, o, epoch));
  return out;
}

std::vector<std::string> offsets(const std::vector<broker::message_ptr>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) {
    out.push_back(m->target.name + "@" + std::string(*m->wire->common().get("x-position")));
  }
  return out;
}

broker::detail::recover_request plain(std::uint64_t offset) {
  broker::detail::recover_request r;
  EXPECT_TRUE(broker::detail::parse_recover_from("e:" + std::to_string(offset), r));
  return r;
}

TEST(LiveAfterRecovery, KeepsOnlyHeldMessagesPastTheRead) {
  // Read 6..9; live 8..12 held meanwhile (8 and 9 came both ways): 10, 11, 12 follow.
  const auto live = broker::detail::live_after_recovery(plain(5), range("/topic/a", 6, 9),
                                                        range("/topic/a", 8, 12));
  EXPECT_EQ(offsets(live), offsets(range("/topic/a", 10, 12)));
}

TEST(LiveAfterRecovery, NothingReadMeansHeldMessagesPastTheAskedOffset) {
  const auto live =
      broker::detail::live_after_recovery(plain(5), {}, range("/topic/a", 4, 7));
  EXPECT_EQ(offsets(live), offsets(range("/topic/a", 6, 7)));
}

TEST(LiveAfterRecovery, DropsHeldMessagesOfAnotherEpoch) {
  const auto live = broker::detail::live_after_recovery(plain(5), range("/topic/a", 6, 6),
                                                        range("/topic/a", 1, 2, "other"));
  EXPECT_TRUE(live.empty());
}

TEST(LiveAfterRecovery, WildcardMergesPerTopic) {
  broker::detail::recover_request from;
  ASSERT_TRUE(broker::detail::parse_recover_from("/topic/a=e:3,/topic/b=e:7", from));
  std::vector<broker::message_ptr> read = range("/topic/a", 4, 5);
  for (auto& m : range("/topic/c", 1, 2)) read.push_back(m);  // a topic the list did not name
  std::vector<broker::message_ptr> held = range("/topic/b", 6, 9);
  for (auto& m : range("/topic/a", 5, 6)) held.push_back(m);
  for (auto& m : range("/topic/c", 2, 3)) held.push_back(m);
  for (auto& m : range("/topic/d", 1, 1)) held.push_back(m);  // first seen live
  const auto live = broker::detail::live_after_recovery(from, read, held);
  std::vector<std::string> want = offsets(range("/topic/b", 8, 9));
  for (auto& s : offsets({at("/topic/a", 6), at("/topic/c", 3), at("/topic/d", 1)})) {
    want.push_back(s);
  }
  EXPECT_EQ(offsets(live), want);
}

// Answers reads when told, as Redis would after a round trip.
struct fake_shared_history final : broker::history {
  bool keeps(std::string_view name) const override { return name.starts_with("/topic/room."); }
  bool shared() const override { return true; }
  void append_shared(const broker::message_ptr&,
                     std::function<void(std::error_code)> done) override {
    done(broker::error::message_not_stored);
  }
  void read_after_async(const std::string&, const broker::history_position& from,
                        std::chrono::system_clock::time_point,
                        std::function<void(broker::history_read)> done) override {
    asked = from;
    answer = std::move(done);
  }
  broker::history_position next_position(const std::string&) override { return {}; }
  void append(const std::string&, const broker::history_position&, broker::message_ptr,
              std::chrono::system_clock::time_point) override {}
  broker::history_read read_after(const std::string&, const broker::history_position&,
                                  std::chrono::system_clock::time_point) override {
    return {};
  }
  std::vector<std::string> topics_matching(const broker::topic_matcher&) override { return {}; }
  void purge(std::chrono::system_clock::time_point) override {}

  broker::history_position asked;
  std::function<void(broker::history_read)> answer;
};

struct SharedHistory : ::testing::Test {
  static broker::config with(std::shared_ptr<fake_shared_history> h, std::size_t hold_bytes) {
    broker::config c;
    c.history_store = std::move(h);
    c.max_recovery_held_bytes = hold_bytes;
    return c;
  }
  void subscribe_from(client& c, std::uint64_t offset) {
    c.send(make("SUBSCRIBE", {{"destination", "/topic/room.1"}, {"id", "s"}, {"receipt", "r"},
                              {"x-recover-from", "e:" + std::to_string(offset)}}));
    q.drain();
  }
  void live(std::uint64_t first, std::uint64_t last) {
    for (auto& m : range("/topic/room.1", first, last)) b->deliver_remote(m, 0);
    q.drain();
  }
  void answer(std::uint64_t first, std::uint64_t last, bool complete = true) {
    broker::history_read r;
    r.complete = complete;
    for (auto& m : range("/topic/room.1", first, last)) r.messages.push_back({first++, {}, m});
    std::exchange(history->answer, nullptr)(std::move(r));  // once, as Redis answers
    q.drain();
  }
  // A read never answered holds the subscription's hold (bytes charged to the broker's
  // budget): drop it while the broker still lives.
  ~SharedHistory() override { history->answer = nullptr; }

  std::shared_ptr<fake_shared_history> history = std::make_shared<fake_shared_history>();
  post_queue q;
  std::unique_ptr<broker::broker> b;
};

struct SharedHistoryRoomy : SharedHistory {
  SharedHistoryRoomy() { b = std::make_unique<broker::broker>(with(history, 1 << 20)); }
};

TEST_F(SharedHistoryRoomy, RecoveryHoldsLiveMessagesUntilTheReadThenEachOnceInOrder) {
  client c(*b, q);
  c.connect();
  subscribe_from(c, 5);
  ASSERT_TRUE(history->answer);
  EXPECT_EQ(history->asked.offset, 5u);
  live(8, 10);  // published while the read is on its way: held
  EXPECT_TRUE(c.take().empty());
  answer(6, 9);
  const auto frames = c.take();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].command, "RECEIPT");
  EXPECT_EQ(frames[0].get("x-recovered"), "true");
  std::vector<std::string> bodies;
  for (std::size_t i = 1; i < frames.size(); ++i) bodies.push_back(frames[i].body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"6", "7", "8", "9", "10"}));
  live(11, 11);  // live from now on
  EXPECT_EQ(c.take_one().body, "11");
}

TEST_F(SharedHistoryRoomy, IncompleteReadDeliversOnlyTheHeldLiveMessages) {
  client c(*b, q);
  c.connect();
  subscribe_from(c, 5);
  live(40, 41);
  answer(30, 39, false);
  const auto frames = c.take();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].get("x-recovered"), "false");
  EXPECT_EQ(frames[1].body, "40");
  EXPECT_EQ(frames[2].body, "41");
}

struct SharedHistoryTight : SharedHistory {
  // About one held message (held_size counts 256 bytes of overhead each).
  SharedHistoryTight() { b = std::make_unique<broker::broker>(with(history, 600)); }
};

TEST_F(SharedHistoryTight, HeldPastTheBoundAnswersNotRecoveredAndReleasesTheBudget) {
  client c(*b, q);
  c.connect();
  subscribe_from(c, 5);
  live(6, 6);
  EXPECT_GT(b->held().used(), 0u);  // charged while held
  live(7, 9);                      // past the bound: all dropped at once
  EXPECT_EQ(b->held().used(), 0u);
  answer(6, 7);
  const auto frames = c.take();
  ASSERT_EQ(frames.size(), 1u);  // the client reloads; nothing from history, nothing held
  EXPECT_EQ(frames[0].get("x-recovered"), "false");
  EXPECT_EQ(b->held().used(), 0u);
  live(10, 10);
  EXPECT_EQ(c.take_one().body, "10");
}

}  // namespace
