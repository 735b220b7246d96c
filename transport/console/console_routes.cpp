#include "transport/console/console_routes.hpp"

#include <charconv>
#include <memory>
#include <optional>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <spdlog/spdlog.h>

#include "broker/destination.hpp"
#include "broker/printable.hpp"
#include "broker/store/error.hpp"
#include "transport/console/console_assets.hpp"
#include "transport/console/console_json.hpp"
#include "transport/detail/api_request.hpp"
#include "transport/detail/origin.hpp"

namespace transport::console {

namespace {

using detail::metrics_answer;
using detail::metrics_reply;
using detail::metrics_request;

constexpr const char* json_type = "application/json";

// The page loads only its own files and talks only to this listener; no inline script, no
// framing by another site.
constexpr const char* page_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

metrics_reply json_reply(unsigned status, std::string body) {
  metrics_reply r{status, json_type, std::move(body), {}};
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

metrics_reply error_reply(unsigned status, std::string_view message) {
  return json_reply(status, detail::api_error_json(message));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Peer-supplied text in a log line, in quotes, escaped by the one escaper of every log line.
std::string quoted(std::string_view text) { return "\"" + broker::printable(text) + "\""; }

metrics_reply overview(const context_ptr& ctx) {
  overview_extra extra;
  extra.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - ctx->started);
  extra.now_ms = now_ms();
  extra.ready = ctx->srv.accepting() && ctx->b.ready();
  extra.cluster = parse_cluster(ctx->b.cluster_metrics());
  extra.cuts = ctx->srv.recent_cuts();
  return json_reply(200, overview_json(detail::take_snapshot(ctx->srv.statistics(), ctx->b), extra));
}

void inboxes(const context_ptr& ctx, const metrics_answer& answer) {
  ctx->b.inboxes(max_listed, [answer](std::vector<broker::inbox_summary> list,
                                     std::error_code ec) {
    if (ec == broker::store::error::not_supported) {
      return answer(json_reply(501, R"({"available":false,"error":"the store in use )"
                                    R"(cannot list its queues"})"));
    }
    if (ec) return answer(error_reply(503, ec.message()));
    answer(json_reply(200, inboxes_json(list, now_ms())));
  });
}

void read_api(const context_ptr& ctx, std::string_view path, const metrics_answer& answer) {
  if (path == "/api/v1/overview") return answer(overview(ctx));
  if (path == "/api/v1/destinations") {
    return answer(json_reply(200, destinations_json(ctx->b.destinations(max_listed))));
  }
  if (path == "/api/v1/inboxes") return inboxes(ctx, answer);
  if (path == "/api/v1/connections") {
    return ctx->srv.describe_connections(max_listed, [answer](connection_list list) {
      answer(json_reply(200, connections_json(list)));
    });
  }
  answer(error_reply(404, "not found"));
}

/// An admin action once its caller is known to hold role "admin".
struct admin_action {
  std::string what;  // for the log: "close connection 12", "purge inbox \"bob\""
  std::function<void(const std::string& admin, metrics_answer)> run;
};

std::optional<admin_action> close_action(const context_ptr& ctx, std::string_view id_text) {
  std::uint64_t id = 0;
  const auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || p != id_text.data() + id_text.size()) return std::nullopt;
  return admin_action{"close connection " + std::to_string(id),
                      [ctx, id](const std::string&, metrics_answer answer) {
                        if (!ctx->srv.close_connection(id)) {
                          return answer(error_reply(404, "no open connection has this id"));
                        }
                        answer(json_reply(202, R"({"closing":true})"));
                      }};
}

std::optional<admin_action> purge_action(const context_ptr& ctx, std::string_view user_segment) {
  auto user = broker::decode_user(user_segment);
  if (!user || user->empty()) return std::nullopt;
  return admin_action{"purge inbox " + quoted(*user),
                      [ctx, user = *user](const std::string& admin, metrics_answer answer) {
                        ctx->b.purge_inbox(user, [answer, admin, user](std::uint64_t n,
                                                                      std::error_code ec) {
                          spdlog::warn("console: admin {} purged {} message(s) of {}{}{}",
                                       quoted(admin), n, quoted(user), ec ? ": " : "",
                                       ec ? ec.message() : "");
                          if (ec == broker::store::error::not_supported) {
                            return answer(error_reply(501, ec.message()));
                          }
                          if (ec) return answer(error_reply(503, ec.message()));
                          answer(json_reply(200, R"({"removed":)" + std::to_string(n) + "}"));
                        });
                      }};
}

// "/api/v1/connections/{id}/close" or "/api/v1/inboxes/{user}/purge"; nullopt otherwise.
std::optional<admin_action> parse_action(const context_ptr& ctx, std::string_view path) {
  auto between = [&](std::string_view prefix, std::string_view suffix) -> std::optional<std::string_view> {
    if (!path.starts_with(prefix) || !path.ends_with(suffix)) return std::nullopt;
    if (path.size() <= prefix.size() + suffix.size()) return std::nullopt;
    auto middle = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (middle.find('/') != std::string_view::npos) return std::nullopt;
    return middle;
  };
  if (auto id = between("/api/v1/connections/", "/close")) return close_action(ctx, *id);
  if (auto user = between("/api/v1/inboxes/", "/purge")) return purge_action(ctx, *user);
  return std::nullopt;
}

void admin(const context_ptr& ctx, const metrics_request& req, admin_action action,
           const metrics_answer& answer) {
  // A browser on another site could POST here with an administrator's cached Basic
  // credentials: the publish API's Origin rule, and no form (or text/plain) bodies.
  if (!req.origin.empty() &&
      !detail::origin_allowed(req.origin, req.host, ctx->srv.settings().allowed_origins,
                              ctx->srv.settings().loopback_origins)) {
    spdlog::warn("console: {} from {} refused: Origin {} not allowed", action.what, req.remote,
                 quoted(req.origin));
    return answer(error_reply(403, "origin not allowed"));
  }
  // The admin POSTs carry no body: no Content-Type is fine, a form's or text/plain's is not.
  if (!req.content_type.empty() && !detail::is_json_content_type(req.content_type)) {
    return answer(error_reply(415, "Content-Type must be application/json or absent"));
  }
  const auto creds = detail::parse_api_credentials(req.authorization, req.remote);
  if (creds.login.empty() && creds.bearer.empty()) {
    auto r = error_reply(401, "credentials required (Basic or Bearer)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stompbox\"");
    return answer(std::move(r));
  }
  ctx->b.authenticate(creds, [answer, action = std::move(action), remote = req.remote](
                                std::optional<auth::principal> who) {
    if (!who) {
      spdlog::warn("console: {} from {} refused: access refused", action.what, remote);
      auto r = error_reply(401, "access refused");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stompbox\"");
      return answer(std::move(r));
    }
    if (!who->has_role("admin")) {
      spdlog::warn("console: {} by {} from {} refused: no role admin", action.what,
                   quoted(who->name), remote);
      return answer(error_reply(403, "role admin required"));
    }
    spdlog::warn("console: admin {} from {}: {}", quoted(who->name), remote, action.what);
    action.run(who->name, answer);
  });
}

metrics_reply asset_reply(const asset& a) {
  metrics_reply r{200, std::string(a.content_type), std::string(a.bytes), {}};
  r.headers.emplace_back("Content-Security-Policy", page_policy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

bool handles(std::string_view path) noexcept {
  return path == "/" || path.starts_with("/console/") || path.starts_with("/api/");
}

void route(const context_ptr& ctx, metrics_request req, metrics_answer answer) {
  const std::string_view target = req.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const bool post = req.method == "POST";
  if (path.starts_with("/api/")) {
    if (auto action = parse_action(ctx, path)) {
      if (!post) {
        auto r = error_reply(405, "POST only");
        r.headers.emplace_back("Allow", "POST");
        return answer(std::move(r));
      }
      return admin(ctx, req, std::move(*action), answer);
    }
    if (post && (path.starts_with("/api/v1/connections/") || path.starts_with("/api/v1/inboxes/"))) {
      return answer(error_reply(400, "not a connection id or a percent-encoded user name"));
    }
    if (post) {
      auto r = error_reply(405, "GET only");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return answer(std::move(r));
    }
    return read_api(ctx, path, answer);
  }
  if (post) return answer({405, "text/plain; charset=utf-8", "GET only\n", {{"Allow", "GET, HEAD"}}});
  const asset* a = find_asset(path == "/" ? "/console/index.html" : path);
  if (a == nullptr) return answer({404, "text/plain; charset=utf-8", "not found\n", {}});
  answer(asset_reply(*a));
}

}  // namespace transport::console
