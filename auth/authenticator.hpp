#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace auth {

/// Who a session is, once authenticated.
struct principal {
  std::string name;                ///< user name; empty only for anonymous development sessions
  std::vector<std::string> roles;  ///< e.g. "user", "publisher"
  /// When the credentials stop being valid (JWT `exp`); the session is closed then.
  std::optional<std::chrono::system_clock::time_point> expires;
  bool has_role(std::string_view role) const noexcept;
};

/// What a peer offered to prove who it is.
struct credentials {
  std::string login;        ///< CONNECT `login`
  std::string passcode;     ///< CONNECT `passcode` (a password or a JWT)
  std::string bearer;       ///< CONNECT `Authorization: Bearer`, or the WebSocket handshake's token
  std::string peer_address; ///< "ip:port", for rate limiting failed attempts
};

/// Turns credentials into a principal. Implementations are thread-safe.
class authenticator {
 public:
  virtual ~authenticator() = default;
  /// The principal, or std::nullopt with `ec` set to an auth error. The reason is for logs only:
  /// the peer is told "access refused" whatever it is.
  virtual std::optional<principal> authenticate(const credentials& creds,
                                                std::error_code& ec) const = 0;
  /// True when authenticate(creds) may take long (a password hash to compute, milliseconds to
  /// hundreds of them): callers on I/O threads run it on other threads then. Cheap (no hash);
  /// a hint only, the answer may change before authenticate runs. Default: never slow.
  virtual bool slow(const credentials& creds) const {
    (void)creds;
    return false;
  }
};

/// What a session wants to do with a destination.
enum class action { subscribe, send };

/// Decides whether a principal may subscribe or send to a canonical destination. Thread-safe.
class authorizer {
 public:
  virtual ~authorizer() = default;
  /// `destination` is canonical (see broker/destination); for user destinations it is the
  /// resolved form `/user/{owner}/queue/x` or `/user/{owner}/topic/x`.
  virtual bool allowed(const principal& who, action what, std::string_view destination) const = 0;
};

}  // namespace auth
