#pragma once
// Shared by the store tests: a temporary data dir, a synchronous append, what a load returned.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <system_error>
#include <vector>

#include "broker/store/sqlite_store.hpp"

namespace store_test {

/// A fresh directory under /tmp, removed with everything in it at destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "stompbox-store-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// What an append completion reported.
struct append_result {
  std::error_code ec;
  std::uint64_t seq = 0;
};

/// Appends and waits for the completion.
inline append_result append_sync(broker::store::store& s, const std::string& queue,
                                 const std::string& id, const std::string& payload,
                                 std::int64_t expires_at_ms = 0) {
  std::promise<append_result> done;
  auto result = done.get_future();
  s.append(queue, id, payload, expires_at_ms, [&done](std::error_code ec, std::uint64_t seq) {
    done.set_value({ec, seq});
  });
  return result.get();
}

/// Message ids of `messages`, in order.
inline std::vector<std::string> ids_of(const std::vector<broker::store::stored_message>& ms) {
  std::vector<std::string> ids;
  for (const auto& m : ms) ids.push_back(m.message_id);
  return ids;
}

/// The `delivered` flag of each of `messages`, in order.
inline std::vector<bool> delivered_of(const std::vector<broker::store::stored_message>& ms) {
  std::vector<bool> out;
  for (const auto& m : ms) out.push_back(m.delivered);
  return out;
}

/// Options for a store in `dir` with everything else at its default.
inline broker::store::sqlite_options options_in(const temp_dir& dir) {
  broker::store::sqlite_options o;
  o.data_dir = dir.str();
  return o;
}

}  // namespace store_test
