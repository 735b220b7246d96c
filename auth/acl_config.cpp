// The `[[acl]]` tables: see rules_authorizer.hpp for the shape.
#include <stdexcept>

#include "auth/detail/toml_reader.hpp"
#include "auth/rules_authorizer.hpp"

namespace auth {
namespace {

std::vector<action> parse_actions(const toml::table& t, const std::string& where) {
  const auto names = detail::optional_string_list(t, "actions", where);
  if (!names || names->empty()) throw std::runtime_error(where + ": `actions` is required");
  std::vector<action> out;
  for (const auto& name : *names) {
    if (name == "subscribe") {
      out.push_back(action::subscribe);
    } else if (name == "send") {
      out.push_back(action::send);
    } else {
      throw std::runtime_error(where + ": unknown action `" + name +
                               "` (use \"subscribe\" or \"send\")");
    }
  }
  return out;
}

acl_rule parse_rule(const toml::table& t, const std::string& where) {
  detail::check_keys(t, {"who", "destinations", "actions", "allow"}, where);
  acl_rule r;
  r.who = detail::required_string(t, "who", where);
  auto destinations = detail::optional_string_list(t, "destinations", where);
  if (!destinations || destinations->empty()) {
    throw std::runtime_error(where + ": `destinations` is required");
  }
  r.destinations = std::move(*destinations);
  r.actions = parse_actions(t, where);
  r.allow = detail::boolean_or(t, "allow", true, where);
  return r;
}

}  // namespace

std::vector<acl_rule> parse_acl(std::string_view toml_text, const std::string& source) {
  const auto doc = detail::parse_toml(toml_text, source);
  const auto tables = detail::tables_of(doc.get("acl"), source + ": [[acl]]");
  std::vector<acl_rule> rules;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string where = source + ": [[acl]] #" + std::to_string(i + 1);
    rules.push_back(parse_rule(*tables[i], where));
    try {  // pattern errors now, with the file position, rather than at construction
      rules_authorizer check({rules.back()});
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
  }
  return rules;
}

std::vector<acl_rule> load_acl(const std::filesystem::path& file) {
  return parse_acl(detail::read_file(file.string()), file.string());
}

}  // namespace auth
