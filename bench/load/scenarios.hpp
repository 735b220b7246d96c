#pragma once

#include "bench/load/options.hpp"

namespace load {

/// fanout: --subscribers on one topic, --publishers (1) sending to it; with --storm N a login
/// storm runs while it publishes (see storm.hpp). Returns an exit_code.
int run_fanout(const options& o);
/// notify: --users each subscribed to their user destination, --publishers sending to random
/// users. Returns an exit_code.
int run_notify(const options& o);
/// queue: --subscribers consumers (auto ack) of one /queue/ (--destination, default
/// /queue/bench), --publishers (4) sending to it; each message must reach exactly one consumer.
/// Returns an exit_code.
int run_queue(const options& o);
/// idle: --connections CONNECTed (heart-beats on) and SUBSCRIBEd, held for --hold seconds.
/// Returns an exit_code.
int run_idle(const options& o);

}  // namespace load
