#pragma once

// Start-up config reading shared by the users file, [jwt] and [[acl]] loaders. Every function
// throws std::runtime_error with a message naming the source and the offending key: these run
// once when the broker starts, never on peer input.

#include <toml++/toml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auth::detail {

/// Parses TOML text; `source` (a file name) prefixes error messages.
toml::table parse_toml(std::string_view text, const std::string& source);

/// Reads a whole file, throwing when it cannot be opened.
std::string read_file(const std::string& path);

/// Throws when `table` has a key not in `allowed` (catches typos such as `passwd`).
void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                const std::string& where);

/// The string at `key`, std::nullopt when absent; throws when present but not a string.
std::optional<std::string> optional_string(const toml::table& table, std::string_view key,
                                           const std::string& where);

/// The string at `key`; throws when absent, empty or not a string.
std::string required_string(const toml::table& table, std::string_view key,
                            const std::string& where);

/// A string or an array of strings at `key` as a list; std::nullopt when absent.
std::optional<std::vector<std::string>> optional_string_list(const toml::table& table,
                                                             std::string_view key,
                                                             const std::string& where);

/// The integer at `key` within [min, max], `fallback` when absent.
long long integer_or(const toml::table& table, std::string_view key, long long fallback,
                     long long min, long long max, const std::string& where);

/// The boolean at `key`, `fallback` when absent.
bool boolean_or(const toml::table& table, std::string_view key, bool fallback,
                const std::string& where);

/// `array` as a list of tables (`[[name]]`); throws when an element is not a table.
std::vector<const toml::table*> tables_of(const toml::node* array, const std::string& where);

}  // namespace auth::detail
