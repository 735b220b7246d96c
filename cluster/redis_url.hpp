#pragma once
// Kept for the cluster link's includes: where Redis is and how to log in (cluster/redis/).

#include "cluster/redis/options.hpp"

namespace cluster {

/// Where Redis is (address or sentinels, db, credentials, TLS).
using redis_endpoint = redis::options;

}  // namespace cluster
