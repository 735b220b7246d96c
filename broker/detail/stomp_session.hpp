#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "auth/authenticator.hpp"
#include "broker/byte_budget.hpp"
#include "broker/connection.hpp"
#include "broker/destination.hpp"
#include "broker/detail/lazy_deque.hpp"
#include "broker/detail/user_router.hpp"
#include "broker/message.hpp"
#include "broker/queue.hpp"
#include "broker/rate_limit.hpp"
#include "broker/session.hpp"
#include "stomp/frame.hpp"
#include "stomp/negotiation.hpp"
#include "stomp/parser.hpp"
#include "stomp/version.hpp"

namespace broker::detail {

struct broker_core;

/// SUBSCRIBE ack modes.
enum class ack_mode { automatic, client, client_individual };

/// One SUBSCRIBE of this session.
struct subscription {
  std::string id;
  destination dest;
  ack_mode ack = ack_mode::automatic;
  std::uint64_t handle = 0;       ///< registry handle
  std::shared_ptr<queue> q;       ///< the queue, for /queue/ subscriptions
  std::string user_key;           ///< resolved name, for user destinations
  std::shared_ptr<struct user_feed> feed;  ///< user queues: what is delivered and may be next
  /// While a shared history is read for it (a cluster): the live messages held meanwhile.
  std::shared_ptr<struct recovery_hold> hold;
};

/// How one user-queue subscription is fed from the store (see user_router): pulled in pages
/// while the connection writes and the client acks, live once caught up. Shared with the
/// deliveries not yet written, which outlive an UNSUBSCRIBE.
struct user_feed {
  std::string key;  ///< resolved name
  std::uint64_t handle = 0;
  ack_mode ack = ack_mode::automatic;
  std::size_t prefetch = 0;      ///< client modes: most unacked at once; 0 = no cap
  std::uint64_t cursor = 0;      ///< every stored seq <= cursor was handed out or skipped
  std::set<std::uint64_t> ahead;  ///< live copies handed out above cursor, out of seq order
  bool live = false;     ///< the router posts each new message (else we load them)
  bool loading = false;  ///< a load is in flight
  bool waiting = false;  ///< caught up, appends being committed: a nudge follows
  std::size_t asked = 0;  ///< rows the load in flight asked for
  std::size_t unwritten = 0;        ///< handed to the connection, not yet written
  std::size_t unwritten_bytes = 0;  ///< their bytes
  std::size_t unacked = 0;          ///< client modes: delivered, not yet ACKed or NACKed
};

/// A durable delivery handed to the connection, until its bytes are written.
struct unwritten_delivery {
  std::uint64_t mark = 0;  ///< outgoing::written_mark
  std::shared_ptr<user_feed> feed;
  std::uint64_t seq = 0;
  std::size_t bytes = 0;
};

/// An open transaction: the frames it holds until COMMIT, and their held_size.
struct open_transaction {
  std::vector<stomp::frame> frames;
  std::size_t bytes = 0;
};

/// A delivered MESSAGE waiting for ACK/NACK (client and client-individual modes).
struct pending_ack {
  std::string subscription;  ///< id of the subscription it was delivered on
  std::string message_id;
  std::uint64_t delivery = 0;  ///< the queue's delivery id; 0 for topics
  std::uint64_t user_seq = 0;  ///< the store's seq, for user-queue messages
};

/// A CONNECT whose credentials are being checked (on the broker's login threads, or inline).
struct pending_login {
  stomp::frame frame;
  stomp::version version = stomp::version::v1_0;
  stomp::heart_beat theirs;
};

/// What only some sessions use (acks of client modes, transactions, durable SENDs, publisher
/// flow control, a login checked on the login threads), made on first use: an idle
/// subscriber's session holds none of it, one pointer instead (stomp_session::rare()).
struct session_extras {
  std::map<std::uint64_t, pending_ack> pending;  // by ack sequence: delivery order
  std::unordered_map<std::string, open_transaction> transactions;
  // Tickets of the durable SENDs awaiting the store's commit, with their held_size.
  std::map<std::uint64_t, std::size_t> unsettled_stores;
  std::optional<stomp::frame> deferred_disconnect;  // DISCONNECT waiting for them
  std::vector<std::shared_ptr<queue>> full_queues;  // filled by us, we wait for their room
  std::optional<pending_login> waiting_login;  // CONNECT on the login threads; reading paused
  std::string unread;  // bytes read after that CONNECT, parsed once it is answered
};

/// The STOMP session: one per connection. Every member runs on the connection's strand (see
/// broker::session); deliver/deliver_queued arrive there through connection::post. Holds only a
/// weak reference to its connection. The command handlers live in broker/handlers/.
class stomp_session final : public session, public std::enable_shared_from_this<stomp_session> {
 public:
  stomp_session(broker_core& core, const std::shared_ptr<connection>& conn);
  ~stomp_session() override;

  void on_bytes(std::string_view bytes) override;
  void on_slow_consumer() override;
  void on_written(std::uint64_t mark) override;
  void on_closed(close_reason why) override;
  session_summary summary() const override;
  void close_by_admin() override;

  /// A topic message for the subscription registered as `handle`. Strand only.
  void deliver(std::uint64_t handle, const message_ptr& m) override;
  /// A queue message, in flight to this session as `delivery`. Strand only. Settles it with the
  /// queue (auto ack) or remembers it until ACK/NACK.
  void deliver_queued(const std::shared_ptr<queue>& q, std::uint64_t handle,
                      std::uint64_t delivery, const message_ptr& m);
  /// A user-destination message for subscription `handle`; `seq` is its store seq (user queues;
  /// 0 for user topics). A seq at or below the subscription's last one is skipped (a replayed
  /// message arriving live too). Strand only.
  void deliver_user(std::uint64_t handle, std::uint64_t seq, const message_ptr& m);
  /// Posted by the user router: commits this pulling subscription waited for are done; it loads
  /// again. Strand only.
  void nudge_user(std::uint64_t handle);
  /// Posted by a queue this session filled: it has drained to its low watermark, so reading
  /// may resume (publisher flow control). Strand only.
  void on_queue_room(const std::shared_ptr<queue>& q);
  /// Posted by broker::tick: ends the session with ERROR "token expired" once its principal's
  /// expiry has passed. Strand only.
  void check_expiry();
  /// Posted by broker::tick while this session is paused by config::max_held_bytes: resumes
  /// reading once the budget is relieved; a partial frame that waited too long is refused.
  /// Strand only.
  void on_budget_check();

  /// Budget checks (ticks, about seconds) a partial frame that grew while the server budget was
  /// over may wait before it is refused: it holds bytes nobody else can free.
  static constexpr unsigned partial_frame_patience = 5;

 private:
  enum class state { awaiting_connect, connected, closing, closed };

  void parse_frames(std::string_view bytes);
  /// parser_, made with the limits and version of the session's state when there is none.
  stomp::parser& parser();
  void charge_partial_frame();
  void over_budget(const stomp::frame* cause, bool partial);
  void on_frame(stomp::frame& f);
  /// Applies send_rate to a SEND: false when it ended the session (policy "disconnect").
  bool within_send_rate(const stomp::frame& f);
  void on_connected_frame(stomp::frame& f);
  // handlers/*.cpp: one per client command.
  void handle_connect(const stomp::frame& f);
  void handle_send(stomp::frame& f);
  void handle_subscribe(const stomp::frame& f);
  void handle_unsubscribe(const stomp::frame& f);
  void handle_ack(const stomp::frame& f, bool positive);
  void handle_begin(const stomp::frame& f);
  void handle_commit(const stomp::frame& f);
  void handle_abort(const stomp::frame& f);
  void handle_disconnect(const stomp::frame& f);
  void reply_connected(stomp::version v, stomp::heart_beat theirs);
  bool buffer_in_transaction(stomp::frame& f);
  std::error_code check_subscribe(const stomp::frame& f, subscription& sub, std::size_t& prefetch,
                                  std::string& detail) const;
  std::error_code check_send(const stomp::frame& f, destination& d, std::string& detail) const;
  std::error_code find_ack(const stomp::frame& f, std::uint64_t& seq) const;
  void settle(std::uint64_t seq, bool positive);
  // handlers/connect.cpp: the credentials are checked inline, or on the login threads.
  auth::credentials credentials_of(const stomp::frame& f) const;
  void check_login_later(pending_login login, auth::credentials creds);
  void on_login_answer(const std::optional<auth::principal>& who, std::error_code ec);
  void on_login_checked(const pending_login& login, std::optional<auth::principal> who,
                        std::error_code ec);
  std::error_code resolve_user(subscription& sub, std::string& detail) const;
  void subscribe_user(subscription& sub, std::size_t prefetch);
  void subscribe_recovering(const stomp::frame& f, subscription sub,
                            const struct recover_request& from);
  void subscribe_recovering_shared(const stomp::frame& f, subscription sub,
                                   const struct recover_request& from);
  void hold_live(const subscription& sub, const message_ptr& m);
  void finish_recovery(const std::string& id, const std::shared_ptr<struct recovery_hold>& hold,
                       struct recovery r);
  // user_feed.cpp: pulling and pacing a user-queue subscription.
  void pump(user_feed& feed);
  void on_user_page(std::uint64_t handle, const std::vector<stored_delivery>& page,
                    std::error_code ec, bool full, std::uint64_t changes);
  void deliver_live(subscription& sub, std::uint64_t seq, const message_ptr& m);
  void deliver_stored(const subscription& sub, std::uint64_t seq, const message_ptr& m);
  std::size_t room(const user_feed& feed) const;
  void settled_user(const pending_ack& p, bool positive);
  void release_unwritten();
  void send_durable(const message_ptr& m, stomp::frame cause);
  void on_stored(std::error_code ec, const stomp::frame& cause, std::uint64_t ticket,
                 const message_ptr& shared_full = nullptr);
  void receipt_after_stores(const stomp::frame& cause);
  // Publisher flow control (handlers/send.cpp): reading is paused while any cause holds.
  enum pause_cause : unsigned { pause_queue = 1, pause_store = 2, pause_budget = 4 };
  void send_to_queue(const message_ptr& m, const stomp::frame& cause);
  void wait_shared_room(const std::string& queue_name);
  void hold(pause_cause c);
  void release(pause_cause c);
  void on_store_settled();
  void end_flow_control();
  void disconnect(const stomp::frame& f);
  bool allowed(auth::action what, const destination& d) const;

  // Replies.
  void send_frame(const stomp::frame& f);
  void send_receipt(const stomp::frame& cause, std::vector<stomp::header> extra = {});
  /// Returns the bytes queued; `mark` is the frame's outgoing::written_mark.
  std::size_t send_message(const subscription& sub, const message_ptr& m, std::uint64_t delivery,
                           std::uint64_t user_seq = 0, std::uint64_t mark = 0);
  void fail(std::error_code ec, const stomp::frame* cause, std::string detail,
            close_reason why = close_reason::protocol_error, std::vector<stomp::header> extra = {});
  void cleanup();
  void drop_held();
  subscription* find_by_handle(std::uint64_t handle);
  /// session_extras, made on first use. The const one reads an empty set when none was made.
  session_extras& rare();
  const session_extras& rare() const;
  /// A CONNECT is on the login threads (without making session_extras: every read asks).
  bool awaiting_login() const noexcept { return rare_ && rare_->waiting_login; }
  void forget(const subscription& sub);

  broker_core& core_;
  std::weak_ptr<connection> conn_;
  // The peer's address, copied: the connection may be gone when we log. Only it: the rest of
  // peer_info (the handshake's token) is read from the connection at CONNECT.
  std::string remote_;
  // Exists while a read is parsed or a frame is partial (parser()): most connections are idle
  // between reads, and a parser is about 250 bytes.
  std::unique_ptr<stomp::parser> parser_;
  stomp::version version_ = stomp::version::v1_0;
  state state_ = state::awaiting_connect;
  std::uint64_t no_;  // registry key
  std::string id_;    // CONNECTED session header
  auth::principal principal_;
  std::map<std::string, subscription> subscriptions_;  // by subscription id
  std::unordered_map<std::uint64_t, std::string> by_handle_;
  std::uint64_t next_ack_ = 0;
  std::uint64_t store_tickets_ = 0;   // durable SENDs ever submitted (their tickets)
  // What this session holds for its peer (config::max_session_held_bytes): its open
  // transactions' frames and its durable SENDs awaiting the store. Charged to core_.held.
  held_bytes held_;
  held_bytes partial_;  // the partial frame in parser_, charged to core_.held
  bool partial_hostage_ = false;  // paused because that frame grew while the budget was over
  unsigned budget_ticks_ = 0;     // budget checks since the pause
  // COMMIT RECEIPTs waiting for the stores of every ticket up to theirs.
  lazy_deque<std::pair<std::uint64_t, std::string>> receipts_after_stores_;  // ticket, receipt
  std::uint64_t next_mark_ = 0;                  // outgoing::written_mark of durable deliveries
  lazy_deque<unwritten_delivery> unwritten_;     // in mark order
  token_bucket send_bucket_;    // config::send_rate / send_burst
  bool counted_user_ = false;   // principal_ holds a place in core_.user_sessions
  unsigned paused_ = 0;         // pause_cause bits: reading paused while non-zero
  std::unique_ptr<session_extras> rare_;  // see session_extras; null until needed
};

}  // namespace broker::detail
