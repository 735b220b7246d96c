#pragma once
// Redis pub/sub channel names of a cluster. Every node of one cluster derives the same names:
//   topic      "stompbox:{db}:t:/topic/news.uk"   one channel per topic
//   user       "stompbox:{db}:u:alice"            one channel per user (encode_user form)
//   wildcard   PSUBSCRIBE "stompbox:{db}:t:/topic/news.*"  (Redis glob)
//   queue      stream "stompbox:{db}:q:/queue/jobs", its nudges on "stompbox:{db}:qn:/queue/jobs"
//   history    hash "stompbox:{db}:h:/topic/room.1" (o: last offset, e: epoch), stream
//              "stompbox:{db}:hs:/topic/room.1" (kept messages), set "stompbox:{db}:htopics"
//              (the topics that kept any), string "stompbox:{db}:hrules" (the rules' hash)
// Redis pub/sub ignores the database, so `db` is put in the names: clusters sharing a Redis on
// different dbs do not hear each other.

#include <string>
#include <string_view>

namespace cluster {

/// The channel of topic `name` (canonical, "/topic/..."). Thread-safe (pure).
std::string topic_channel(int db, std::string_view name);

/// The channel of user `encoded_user` (broker::encode_user form). Thread-safe (pure).
std::string user_channel(int db, std::string_view encoded_user);

/// The stream (key) holding /queue/ `name` (canonical). Thread-safe (pure).
std::string queue_stream(int db, std::string_view name);

/// The channel announcing new or returned entries of /queue/ `name`. Thread-safe (pure).
std::string queue_channel(int db, std::string_view name);

/// The hash holding topic `name`'s last offset (field o) and epoch (field e). Thread-safe.
std::string history_meta(int db, std::string_view name);
/// The stream keeping topic `name`'s messages (fields o: offset, m: stored form). Thread-safe.
std::string history_stream(int db, std::string_view name);
/// The set of the topics that kept history (wildcard recovery lists them). Thread-safe.
std::string history_topics(int db);
/// The hash of the [[history]] rules the first node wrote (every node compares). Thread-safe.
std::string history_rules(int db);

/// The queue name of a queue_channel(db, ...) channel; empty for any other channel.
std::string_view queue_of_channel(int db, std::string_view channel);

/// A Redis glob matching (at least) the channel of every topic the STOMP wildcard `name`
/// ("/topic/a.*.c", "/topic/a.#") matches. Glob `*` spans segments, so it over-approximates:
/// `*` segments become `*`, `#` segments become `*` together with one neighbouring separator
/// (so "a.#" also matches "a"); literal glob characters are escaped. The receiving node filters
/// exactly with broker::topic_matcher. Thread-safe (pure).
std::string topic_glob(int db, std::string_view name);

}  // namespace cluster
