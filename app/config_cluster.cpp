#include "app/config_cluster.hpp"

#include <filesystem>

namespace app::detail {
namespace {

void check_file(const std::string& path, const char* key) {
  std::error_code ec;
  if (!path.empty() && !std::filesystem::is_regular_file(path, ec)) {
    throw config_error(std::string("[cluster] ") + key + ": cannot read '" + path + "'");
  }
}

}  // namespace

cluster::redis::options make_redis_options(const settings& s) {
  cluster::redis::options o;
  std::string why;
  if (cluster::redis::parse_url(s.cluster_redis, o, why)) {
    throw config_error("--cluster-redis / [cluster] redis: " + why +
                       " (redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB] or "
                       "redis[s]-sentinel://HOST:PORT,HOST:PORT/MASTER[/DB])");
  }
  if (!s.cluster_redis_password_file.empty() && !s.cluster_redis_password_env.empty()) {
    throw config_error("[cluster] redis_password_file and redis_password_env: give one");
  }
  if (!s.cluster_redis_password_file.empty() &&
      !cluster::redis::read_password_file(s.cluster_redis_password_file, o.password, why)) {
    throw config_error("[cluster] redis_password_file: " + why);
  }
  if (!s.cluster_redis_password_env.empty() &&
      !cluster::redis::read_password_env(s.cluster_redis_password_env, o.password, why)) {
    throw config_error("[cluster] redis_password_env: " + why);
  }
  check_file(s.cluster_redis_tls_ca_file, "redis_tls_ca_file");
  check_file(s.cluster_redis_tls_cert_file, "redis_tls_cert_file");
  check_file(s.cluster_redis_tls_key_file, "redis_tls_key_file");
  if (s.cluster_redis_tls_cert_file.empty() != s.cluster_redis_tls_key_file.empty()) {
    throw config_error("[cluster] redis_tls_cert_file and redis_tls_key_file go together");
  }
  o.ca_file = s.cluster_redis_tls_ca_file;
  o.cert_file = s.cluster_redis_tls_cert_file;
  o.key_file = s.cluster_redis_tls_key_file;
  o.server_name = s.cluster_redis_tls_server_name;
  return o;
}

}  // namespace app::detail
