// Fuzzes whole broker sessions: a broker::broker in development mode (no authenticator, default
// ACL) with one or two sessions on recording connections (see recording_connection.hpp for the
// rules each write is checked against) and an in-memory store (memory_store.hpp) whose appends
// complete at broker::flush.
// Input: byte 0 = flags (bit 0: two sessions; bit 1: small frame limits), then records
//   [op][len][len bytes]: the bytes go to session (op bit 0), then op bit 1 drains posted work
//   (after broker::flush, so durable appends complete), bit 2 calls broker::tick, bit 3 signals
//   a slow consumer, bit 4 has the peer go away (on_closed(peer_gone)), bit 5 toggles store
//   failures (appends committed from then on fail, as on a full disk).
// Besides recording_connection's checks, aborts when a session wrote an ERROR frame without
// closing its connection.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "broker/broker.hpp"
#include "memory_store.hpp"
#include "recording_connection.hpp"

namespace {

struct peer {
  std::shared_ptr<fuzz::recording_connection> conn;
  std::shared_ptr<broker::session> session;
  bool gone = false;  // on_closed reported
};

broker::config make_config(bool small_frames, std::shared_ptr<fuzz::memory_store> store) {
  broker::config cfg;
  cfg.store = std::move(store);
  cfg.queue_max_messages = 4;
  cfg.max_subscriptions_per_session = 4;
  cfg.max_transaction_frames = 4;
  cfg.user_queue_max_messages = 3;
  if (small_frames) {
    cfg.frame_limits = stomp::limits{16, 96, 6, 64, 256};
    cfg.pre_connect_limits = stomp::limits{16, 96, 6, 32, 192};
  }
  return cfg;
}

void check_error_closes(const peer& p) {
  if (p.conn->error_sent() && !p.conn->closed()) {
    std::fprintf(stderr, "session_fuzzer: an ERROR frame was sent without close()\n");
    std::abort();
  }
}

// What the transport does once a connection's close completes (or the peer went away).
void report_close(peer& p, broker::close_reason why) {
  if (p.gone) return;
  p.gone = true;
  p.conn->finish();
  p.session->on_closed(why);
}

// Lets durable stores complete, runs posted work, and reports finished closes.
void settle(broker::broker& b, fuzz::post_queue& posts, std::array<peer, 2>& peers, int n) {
  b.flush();
  posts.drain();
  for (int i = 0; i < n; ++i) {
    check_error_closes(peers[i]);
    if (auto why = peers[i].conn->closed()) report_close(peers[i], *why);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every refused frame logs a warning
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int n = (data[0] & 1) ? 2 : 1;
  fuzz::post_queue posts;
  auto store = std::make_shared<fuzz::memory_store>();
  bool failing = false;
  broker::broker b(make_config((data[0] & 2) != 0, store));
  std::array<peer, 2> peers;
  for (int i = 0; i < n; ++i) {
    peers[i].conn = std::make_shared<fuzz::recording_connection>(posts);
    peers[i].session = b.open_session(peers[i].conn);
  }
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (in.size() >= 2) {
    const auto op = static_cast<std::uint8_t>(in[0]);
    const std::size_t len = std::min<std::size_t>(static_cast<std::uint8_t>(in[1]), in.size() - 2);
    const std::string_view bytes = in.substr(2, len);
    in.remove_prefix(2 + len);
    peer& p = peers[static_cast<std::size_t>(op & 1) % static_cast<std::size_t>(n)];
    if (!p.gone) {
      p.session->on_bytes(bytes);
      check_error_closes(p);
      if (op & 8) p.session->on_slow_consumer();
      check_error_closes(p);
      if (op & 16) report_close(p, broker::close_reason::peer_gone);
    }
    if (op & 32) store->set_failing(failing = !failing);
    if (op & 4) b.tick();
    if (op & 2) settle(b, posts, peers, n);
  }
  settle(b, posts, peers, n);
  for (int i = 0; i < n; ++i) report_close(peers[i], broker::close_reason::peer_gone);
  posts.drain();
  return 0;
}
