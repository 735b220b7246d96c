#pragma once

#include "app/config.hpp"
#include "cluster/redis/options.hpp"

namespace app::detail {

/// The Redis options of the [cluster] keys: the URL (--cluster-redis / redis) parsed, the
/// password from redis_password_file or redis_password_env (either wins over the URL's), the
/// TLS files. Throws config_error for a malformed URL (never echoing it: it may hold a
/// password), an unreadable password file, an unset variable, both given, a TLS file that
/// does not exist or a key without its certificate. Start-up only.
cluster::redis::options make_redis_options(const settings& s);

}  // namespace app::detail
