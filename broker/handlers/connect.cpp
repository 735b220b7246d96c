// CONNECT and STOMP (STOMP 1.2 §Connecting): version and heart-beat negotiation,
// authentication, CONNECTED.
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/detail/broker_core.hpp"
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

bool stomp_session::authenticate(const stomp::frame& f) {
  const std::string login(f.get("login").value_or(""));
  if (!core_.cfg.authenticator) {  // development mode: the login is the user name
    principal_ = auth::principal{login, {"user", "publisher"}, std::nullopt};
    return true;
  }
  auth::credentials creds;
  creds.login = login;
  creds.passcode = std::string(f.get("passcode").value_or(""));
  creds.bearer = bearer_from(f);
  if (creds.bearer.empty()) creds.bearer = peer_.bearer_token;
  creds.peer_address = peer_.remote;
  std::error_code ec;
  auto who = core_.cfg.authenticator->authenticate(creds, ec);
  if (!who) {
    bump(core_.counters.auth_failures);
    spdlog::info("session ({}): authentication of \"{}\" failed: {}", peer_.remote, login,
                 ec ? ec.message() : "refused");
    return false;
  }
  principal_ = std::move(*who);
  return true;
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
  if (!authenticate(f)) {
    fail(error::access_refused, &f, "access refused", close_reason::auth_failed);
    return;
  }
  if (!principal_.name.empty()) {
    if (!core_.user_sessions.try_enter(principal_.name)) {
      bump(core_.counters.user_limit_refused);
      fail(error::too_many_connections, &f,
           "user " + principal_.name + " already has the maximum number of sessions");
      return;
    }
    counted_user_ = true;
  }
  version_ = *v;
  parser_.set_version(*v);
  parser_.set_limits(core_.cfg.frame_limits);
  state_ = state::connected;
  id_ = "session-" + core_.session_ids.next();
  if (principal_.expires) {  // broker::tick closes the session then
    core_.expiring.add(no_, expiry_list::entry{*principal_.expires, conn_, weak_from_this()});
  }
  reply_connected(*v, theirs);
}

// CONNECTED always carries heart-beat (even "0,0"): the negotiated pair from our side, which
// makes the client's own negotiation land on the same intervals.
void stomp_session::reply_connected(stomp::version v, stomp::heart_beat theirs) {
  const stomp::heart_beat mine{core_.cfg.heartbeat_send, core_.cfg.heartbeat_receive};
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
