#include "auth/detail/toml_reader.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace auth::detail {
namespace {

[[noreturn]] void fail(const std::string& where, std::string_view key, std::string_view what) {
  throw std::runtime_error(where + ": `" + std::string(key) + "` " + std::string(what));
}

}  // namespace

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ':' << e.source().begin.line << ':' << e.source().begin.column << ": "
        << e.description();
    throw std::runtime_error(msg.str());
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                const std::string& where) {
  for (const auto& [key, value] : table) {
    bool known = false;
    for (const auto name : allowed) known = known || key.str() == name;
    if (!known) fail(where, key.str(), "is not a known key");
  }
}

std::optional<std::string> optional_string(const toml::table& table, std::string_view key,
                                           const std::string& where) {
  const auto* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto value = node->value<std::string>();
  if (!node->is_string() || !value) fail(where, key, "must be a string");
  return *value;
}

std::string required_string(const toml::table& table, std::string_view key,
                            const std::string& where) {
  auto value = optional_string(table, key, where);
  if (!value) fail(where, key, "is required");
  if (value->empty()) fail(where, key, "must not be empty");
  return *value;
}

std::optional<std::vector<std::string>> optional_string_list(const toml::table& table,
                                                             std::string_view key,
                                                             const std::string& where) {
  const auto* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  if (node->is_string()) return std::vector<std::string>{*node->value<std::string>()};
  const auto* array = node->as_array();
  if (array == nullptr) fail(where, key, "must be a string or an array of strings");
  std::vector<std::string> out;
  for (const auto& element : *array) {
    if (!element.is_string()) fail(where, key, "must contain only strings");
    out.push_back(*element.value<std::string>());
  }
  return out;
}

long long integer_or(const toml::table& table, std::string_view key, long long fallback,
                     long long min, long long max, const std::string& where) {
  const auto* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_integer()) fail(where, key, "must be an integer");
  const auto value = *node->value<long long>();
  if (value < min || value > max) {
    fail(where, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

bool boolean_or(const toml::table& table, std::string_view key, bool fallback,
                const std::string& where) {
  const auto* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_boolean()) fail(where, key, "must be true or false");
  return *node->value<bool>();
}

std::vector<const toml::table*> tables_of(const toml::node* array, const std::string& where) {
  std::vector<const toml::table*> out;
  if (array == nullptr) return out;
  const auto* list = array->as_array();
  if (list == nullptr) throw std::runtime_error(where + " must be an array of tables");
  for (const auto& element : *list) {
    const auto* table = element.as_table();
    if (table == nullptr) throw std::runtime_error(where + " must be an array of tables");
    out.push_back(table);
  }
  return out;
}

}  // namespace auth::detail
