#pragma once
// The name the cluster link includes: the one Redis connection layer is cluster/redis/.

#include "cluster/redis/connection.hpp"
#include "cluster/redis_url.hpp"

namespace cluster {

using redis_connection = redis::connection;
using redis::reply_text;

}  // namespace cluster
