#pragma once
// Where Redis is and how to log in: the one URL parser of the project (cluster link and Redis
// store), the password from a file or an environment variable, and a form for logs.
//
//   redis://[[user]:password@]host[:port][/db]          plain TCP (port 6379, db 0)
//   rediss://...                                         the same over TLS
//   redis-sentinel://[[user]:password@]h1[:p1],h2[:p2]/MASTER[/db]   ask the sentinels (26379)
//   rediss-sentinel://...                                the same, TLS to the sentinels and master
// Hosts may be `[v6]`. Credentials of a Sentinel URL are the master's (sentinels get none).

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cluster::redis {

/// One host and port.
struct address {
  std::string host;
  int port = 6379;
};

/// Everything needed to open a connection. Copyable value; thread-safe to share read-only.
struct options {
  std::vector<address> addresses{{"127.0.0.1", 6379}};  ///< the server, or the sentinels
  std::string sentinel_master;  ///< empty = talk to addresses[0] directly
  int db = 0;                   ///< SELECTed after connecting when not 0
  std::string user;             ///< AUTH user (Redis 6 ACL); empty = the default user
  std::string password;         ///< empty = no AUTH
  bool tls = false;             ///< rediss: TLS to the server (and to the sentinels)
  std::string ca_file;          ///< PEM CA bundle; empty = the system's default store
  std::string cert_file;        ///< client certificate (PEM); empty = none
  std::string key_file;         ///< its private key (PEM)
  std::string server_name;      ///< checked in the certificate and sent as SNI; empty = host

  /// The server (direct mode) or the first sentinel.
  const address& first() const { return addresses.front(); }
};

/// Parses one of the URL forms above into `out` (TLS files and server name untouched).
/// std::errc::invalid_argument and a reason in `why` when malformed. Pure, thread-safe.
std::error_code parse_url(std::string_view url, options& out, std::string& why);

/// The password from the first line of `path` (without its line end). False and `why` when
/// the file cannot be read.
bool read_password_file(const std::string& path, std::string& out, std::string& why);
/// The password from environment variable `name`. False and `why` when it is not set.
bool read_password_env(const std::string& name, std::string& out, std::string& why);

/// The URL as it may be logged: scheme, user, hosts, master, db; never the password.
std::string printable(const options& o);
/// "host:port" (v6 in brackets).
std::string printable(const address& a);

}  // namespace cluster::redis
