#pragma once

#include <cstdint>

namespace load {

/// Resident set size of process `pid` in bytes (VmRSS of /proc/<pid>/status); 0 if unknown.
std::uint64_t rss_bytes(int pid);

/// CPU seconds (user + system) process `pid` has used (/proc/<pid>/stat); negative if unknown.
double cpu_seconds(int pid);

/// CPU seconds (user + system) this process has used so far (getrusage).
double self_cpu_seconds();

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

/// Wall-clock seconds of a monotonic clock.
double wall_seconds();

}  // namespace load
