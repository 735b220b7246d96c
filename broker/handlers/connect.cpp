// CONNECT and STOMP (STOMP 1.2 §Connecting): version and heart-beat negotiation,
// authentication, CONNECTED.
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "broker/detail/broker_core.hpp"
#include "broker/printable.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"
#include "stomp/negotiation.hpp"

namespace broker::detail {
namespace {

// CONNECT headers are never escaped, and some clients send the HTTP spelling.
std::string bearer_from(const stomp::frame& f) {
  auto value = f.get("Authorization");
  if (!value) value = f.get("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value && value->size() > scheme.size() && value->substr(0, scheme.size()) == scheme) {
    return std::string(value->substr(scheme.size()));
  }
  return {};
}

}  // namespace

auth::credentials stomp_session::credentials_of(const stomp::frame& f) const {
  auth::credentials creds;
  creds.login = std::string(f.get("login").value_or(""));
  creds.passcode = std::string(f.get("passcode").value_or(""));
  creds.bearer = bearer_from(f);
  if (creds.bearer.empty()) {  // the WebSocket handshake's token; the connection is alive here
    if (auto conn = conn_.lock()) creds.bearer = conn->peer().bearer_token;
  }
  creds.peer_address = remote_;
  return creds;
}

void stomp_session::handle_connect(const stomp::frame& f) {
  const auto v = stomp::negotiate_version(f.get("accept-version"));
  if (!v) {
    fail(error::unsupported_version, &f, "supported protocol versions are 1.0, 1.1 and 1.2",
         close_reason::protocol_error, {stomp::header{"version", "1.0,1.1,1.2"}});
    return;
  }
  stomp::heart_beat theirs;
  if (auto hb = f.get("heart-beat")) {
    auto parsed = stomp::parse_heart_beat(*hb);
    if (!parsed) {
      fail(error::invalid_heart_beat, &f, "heart-beat must be two numbers: cx,cy");
      return;
    }
    theirs = *parsed;
  }
  pending_login login{f, *v, theirs};
  if (!core_.cfg.authenticator) {  // development mode: the login is the user name
    const std::string name(f.get("login").value_or(""));
    return on_login_checked(login, auth::principal{name, {"user", "publisher"}, std::nullopt}, {});
  }
  auth::credentials creds = credentials_of(f);
  if (core_.cfg.authenticator->slow(creds)) return check_login_later(std::move(login), std::move(creds));
  std::error_code ec;
  auto who = core_.cfg.authenticator->authenticate(creds, ec);  // JWT, cached: microseconds
  on_login_checked(login, std::move(who), ec);
}

// A password check (PBKDF2: 150-260 ms of a core) goes to the broker's login threads; this
// session reads nothing more until the answer is back on its strand (on_bytes keeps what it
// had already read after the CONNECT). The CONNECT timeout keeps running meanwhile.
void stomp_session::check_login_later(pending_login login, auth::credentials creds) {
  auto job = [authenticator = core_.cfg.authenticator, creds = std::move(creds), conn = conn_,
              self = weak_from_this()] {
    if (conn.expired()) return;  // closed while it waited: no hash for nobody
    std::error_code ec;
    auto who = authenticator->authenticate(creds, ec);
    auto c = conn.lock();
    if (!c) return;
    // The closure carries the connection: its last reference must never drop here, on the
    // login thread (destroying a connection off its strand races its I/O thread).
    connection& target = *c;
    target.post([self, who = std::move(who), ec, keep = std::move(c)] {
      if (auto s = self.lock()) s->on_login_answer(who, ec);
    });
  };
  if (!core_.logins.try_submit(std::move(job))) {
    spdlog::warn("session ({}): {} password checks already wait: CONNECT refused",
                 remote_, core_.cfg.verify_queue);
    fail(error::server_busy, &login.frame,
         "too many logins are being checked at once; retry later", close_reason::server_error);
    return;
  }
  rare().waiting_login = std::move(login);
  if (auto conn = conn_.lock()) conn->pause_reading();
}

void stomp_session::on_login_answer(const std::optional<auth::principal>& who,
                                    std::error_code ec) {
  if (!awaiting_login()) return;
  pending_login login = std::move(*rare().waiting_login);
  rare().waiting_login.reset();
  if (auto conn = conn_.lock()) conn->resume_reading();  // posted: runs after what follows
  if (state_ != state::awaiting_connect) return;  // timed out or closed meanwhile
  on_login_checked(login, who, ec);
  std::string rest = std::exchange(rare().unread, {});
  // Only the login used the extras: an idle session should not keep them.
  if (rare_->pending.empty() && rare_->transactions.empty() && rare_->unsettled_stores.empty() &&
      rare_->full_queues.empty() && !rare_->deferred_disconnect && !rare_->waiting_login)
    rare_.reset();
  if (state_ == state::connected && !rest.empty()) on_bytes(rest);
}

void stomp_session::on_login_checked(const pending_login& login,
                                     std::optional<auth::principal> who, std::error_code ec) {
  const stomp::frame& f = login.frame;
  if (!who) {
    bump(core_.counters.auth_failures);
    spdlog::info("session ({}): authentication of \"{}\" failed: {}", remote_,
                 printable(f.get("login").value_or("")), ec ? ec.message() : "refused");
    fail(error::access_refused, &f, "access refused", close_reason::auth_failed);
    return;
  }
  principal_ = std::move(*who);
  if (!principal_.name.empty()) {
    if (!core_.user_sessions.try_enter(principal_.name)) {
      bump(core_.counters.user_limit_refused);
      fail(error::too_many_connections, &f,
           "user " + principal_.name + " already has the maximum number of sessions");
      return;
    }
    counted_user_ = true;
  }
  version_ = login.version;
  if (parser_) {  // else the next read makes one for the connected state
    parser_->set_version(login.version);
    parser_->set_limits(core_.cfg.frame_limits);
  }
  state_ = state::connected;
  id_ = "session-" + core_.session_ids.next();
  if (principal_.expires) {  // broker::tick closes the session then
    core_.expiring.add(no_, expiry_list::entry{*principal_.expires, conn_, weak_from_this()});
  }
  reply_connected(login.version, login.theirs);
}

// CONNECTED always carries heart-beat (even "0,0"): the negotiated pair from our side, which
// makes the client's own negotiation land on the same intervals. Our side follows the
// client's asks down to heartbeat_min (a client asking 0,1000 gets 1000,0).
void stomp_session::reply_connected(stomp::version v, stomp::heart_beat theirs) {
  const stomp::heart_beat mine = stomp::offer_heart_beat(
      {core_.cfg.heartbeat_send, core_.cfg.heartbeat_receive}, theirs, core_.cfg.heartbeat_min);
  const stomp::heart_beat agreed = stomp::negotiate_heart_beat(mine, theirs);
  stomp::frame reply;
  reply.command = "CONNECTED";
  reply.add("version", std::string(stomp::to_string(v)));
  reply.add("session", id_);
  reply.add("server", core_.cfg.server);
  reply.add("heart-beat", stomp::format_heart_beat(agreed));
  if (!principal_.name.empty()) reply.add("user-name", principal_.name);
  send_frame(reply);
  if (auto conn = conn_.lock()) {
    const auto expect = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
        static_cast<double>(agreed.receive.count()) * core_.cfg.heartbeat_tolerance));
    conn->connected(agreed.send, expect);
  }
}

}  // namespace broker::detail
