#include "stomp/negotiation.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace stomp {
namespace {

using std::chrono::milliseconds;

TEST(Negotiation, VersionTable) {
  struct row {
    std::optional<std::string_view> accept;
    std::optional<version> expected;
  };
  const row rows[] = {
      {std::nullopt, version::v1_0},  // absent header: a 1.0 client
      {"1.0", version::v1_0},         {"1.1", version::v1_1},
      {"1.2", version::v1_2},         {"1.0,1.1,1.2", version::v1_2},
      {"1.2,1.0", version::v1_2},     {"1.1,1.0", version::v1_1},
      {"1.0,1.1,2.0", version::v1_1}, {" 1.1 , 1.2 ", version::v1_2},
      {"2.0,3.1", std::nullopt},      {"", std::nullopt},
      {",,", std::nullopt},           {"1.3", std::nullopt},
      {"1.2x,1.0", version::v1_0},
  };
  for (const row& r : rows) {
    EXPECT_EQ(negotiate_version(r.accept), r.expected) << r.accept.value_or("<absent>");
  }
}

TEST(Negotiation, VersionToString) {
  EXPECT_EQ(to_string(version::v1_0), "1.0");
  EXPECT_EQ(to_string(version::v1_1), "1.1");
  EXPECT_EQ(to_string(version::v1_2), "1.2");
  EXPECT_LT(version::v1_1, version::v1_2);
}

TEST(Negotiation, ParseHeartBeat) {
  EXPECT_EQ(parse_heart_beat("0,0"), (heart_beat{milliseconds(0), milliseconds(0)}));
  EXPECT_EQ(parse_heart_beat("10000,5000"), (heart_beat{milliseconds(10000), milliseconds(5000)}));
  EXPECT_EQ(parse_heart_beat(" 10 , 20 "), (heart_beat{milliseconds(10), milliseconds(20)}));
  for (std::string_view bad : {"", "10", "10,", ",10", "a,b", "-1,0", "1,2,3", "99999999999,1"}) {
    EXPECT_EQ(parse_heart_beat(bad), std::nullopt) << bad;
  }
}

TEST(Negotiation, FormatHeartBeat) {
  EXPECT_EQ(format_heart_beat({milliseconds(0), milliseconds(5000)}), "0,5000");
  EXPECT_EQ(parse_heart_beat(format_heart_beat({milliseconds(7), milliseconds(9)})),
            (heart_beat{milliseconds(7), milliseconds(9)}));
}

TEST(Negotiation, HeartBeatTable) {
  struct row {
    heart_beat mine, theirs, expected;
  };
  auto hb = [](int s, int r) { return heart_beat{milliseconds(s), milliseconds(r)}; };
  const row rows[] = {
      {hb(0, 0), hb(0, 0), hb(0, 0)},
      {hb(1000, 1000), hb(0, 0), hb(0, 0)},     // they can do neither
      {hb(0, 0), hb(1000, 1000), hb(0, 0)},     // we can do neither
      {hb(1000, 0), hb(0, 5000), hb(5000, 0)},  // we send at max(1000, 5000)
      {hb(0, 2000), hb(3000, 0), hb(0, 3000)},  // we expect theirs at max(2000, 3000)
      {hb(10000, 10000), hb(4000, 20000), hb(20000, 10000)},
      {hb(500, 500), hb(500, 500), hb(500, 500)},
  };
  for (const row& r : rows) {
    EXPECT_EQ(negotiate_heart_beat(r.mine, r.theirs), r.expected)
        << format_heart_beat(r.mine) << " vs " << format_heart_beat(r.theirs);
  }
}

// Issue #15 case 7: a client asking 0,1000 got 10000,0 (the configured 10 s never went lower).
TEST(Negotiation, OfferFollowsTheClientDownToTheFloor) {
  struct row {
    heart_beat configured, theirs, agreed;
  };
  auto hb = [](int s, int r) { return heart_beat{milliseconds(s), milliseconds(r)}; };
  const milliseconds floor(1000);
  const row rows[] = {
      {hb(10000, 10000), hb(0, 1000), hb(1000, 0)},      // we send as often as asked
      {hb(10000, 10000), hb(0, 100), hb(1000, 0)},       // but not under the floor
      {hb(10000, 10000), hb(1000, 0), hb(0, 1000)},      // we expect theirs as offered
      {hb(10000, 10000), hb(300, 0), hb(0, 1000)},       // floor on that side too
      {hb(10000, 10000), hb(1000, 1000), hb(1000, 1000)},
      {hb(10000, 10000), hb(5000, 20000), hb(20000, 5000)},  // slower than ours: theirs
      {hb(10000, 10000), hb(0, 0), hb(0, 0)},            // nothing asked, nothing agreed
      {hb(0, 10000), hb(1000, 1000), hb(0, 1000)},       // we never send: still never
      {hb(50, 50), hb(20, 20), hb(50, 50)},              // configured under the floor: kept
  };
  for (const row& r : rows) {
    const heart_beat mine = offer_heart_beat(r.configured, r.theirs, floor);
    EXPECT_EQ(negotiate_heart_beat(mine, r.theirs), r.agreed)
        << format_heart_beat(r.configured) << " vs " << format_heart_beat(r.theirs);
    // The client's side of the same negotiation lands on the same pair, mirrored.
    EXPECT_EQ(negotiate_heart_beat(r.theirs, mine),
              (heart_beat{r.agreed.receive, r.agreed.send}));
  }
  // Asking nothing in a direction: our configured default is what we offer there.
  EXPECT_EQ(offer_heart_beat(hb(10000, 8000), hb(0, 0), floor), hb(10000, 8000));
}

}  // namespace
}  // namespace stomp
