// admission::rekey: a trusted proxy's socket is counted in the total at accept and against its
// client's address once a header names it.
#include "transport/detail/admission.hpp"

#include <memory>

#include <gtest/gtest.h>

using transport::refusal;
using transport::detail::admission;
using transport::detail::admission_ticket;

TEST(AdmissionRekey, AProxySocketCountsPerIpOnlyOnceItsClientIsKnown) {
  auto gate = std::make_shared<admission>(10, 2);
  admission_ticket from_proxy[3];
  for (auto& t : from_proxy) EXPECT_FALSE(gate->try_enter("", t));  // no per-IP count yet
  EXPECT_EQ(gate->total(), 3u);
  EXPECT_FALSE(gate->rekey(from_proxy[0], "203.0.113.7"));
  EXPECT_FALSE(gate->rekey(from_proxy[1], "203.0.113.7"));
  EXPECT_EQ(gate->rekey(from_proxy[2], "203.0.113.7"), refusal::max_connections_per_ip);
  EXPECT_EQ(from_proxy[2].ip(), "");  // left as it was, still holding its place in the total
  EXPECT_FALSE(gate->rekey(from_proxy[2], "198.51.100.1"));  // another client: room
  admission_ticket direct;
  EXPECT_EQ(gate->try_enter("203.0.113.7", direct), refusal::max_connections_per_ip);
  from_proxy[0].release();  // gives back 203.0.113.7's place, not the proxy's
  EXPECT_FALSE(gate->try_enter("203.0.113.7", direct));
  EXPECT_EQ(gate->total(), 3u);
}

TEST(AdmissionRekey, RekeyMovesTheCountAndIsIdempotent) {
  auto gate = std::make_shared<admission>(0, 1);
  admission_ticket t;
  ASSERT_FALSE(gate->try_enter("10.0.0.1", t));
  EXPECT_FALSE(gate->rekey(t, "10.0.0.1"));  // same address: nothing moves
  EXPECT_FALSE(gate->rekey(t, "192.0.2.9"));
  EXPECT_EQ(t.ip(), "192.0.2.9");
  admission_ticket other;
  EXPECT_FALSE(gate->try_enter("10.0.0.1", other));  // the old address was given back
  t.release();
  other.release();
  EXPECT_EQ(gate->total(), 0u);
  admission_ticket again;
  EXPECT_FALSE(gate->try_enter("192.0.2.9", again));  // and the new one too
}
