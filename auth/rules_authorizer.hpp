#pragma once

// Access rules, as `[[acl]]` tables of the broker config, first match wins:
//
//   [[acl]]
//   who = "role:publisher"          # "*", "role:NAME", "user:NAME" or a bare user name
//   destinations = ["/user/*/**"]   # string or array; segments split on `/`:
//                                   #   `*` one segment, `**` any number (zero too),
//                                   #   `{user}` the principal's own name (a whole-segment match)
//   actions = ["send"]              # "subscribe", "send" (string or array)
//   allow = true                    # optional, default true; false denies
//
// No rules configured means default_acl(). No match means denied.
// Destinations are canonical (broker/destination) and user destinations arrive resolved as
// /user/{owner}/queue/x. Still, any destination with an empty, `.` or `..` segment, `%`, `\`
// or a control character is refused before any rule is consulted.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"

namespace auth {

/// One `[[acl]]` entry.
struct acl_rule {
  std::string who;                        ///< "*", "role:NAME", "user:NAME" or "NAME"
  std::vector<std::string> destinations;  ///< patterns, see the header comment
  std::vector<action> actions;            ///< what the rule covers
  bool allow = true;                      ///< allow or deny on match
};

/// The rules used when none are configured: everyone may subscribe to `/user/{user}/**`,
/// `/topic/**` and `/queue/**` and send to `/topic/**` and `/queue/**`; role `publisher` may
/// send to `/user/*/**` (any user's destinations). Everything else is denied.
std::vector<acl_rule> default_acl();

/// The `[[acl]]` tables of a TOML document (empty when there are none). Start-up only: throws
/// std::runtime_error naming `source` and the rule on a bad key, pattern or action.
std::vector<acl_rule> parse_acl(std::string_view toml_text, const std::string& source);

/// parse_acl on a file.
std::vector<acl_rule> load_acl(const std::filesystem::path& file);

/// False for destinations no rule may see: not starting with `/`, empty segments (`//`, a
/// trailing `/`), `.` or `..` segments, `%`, `\` or control characters. Never throws.
bool is_safe_destination(std::string_view destination) noexcept;

/// True when `pattern` matches `destination` for user `user` (`{user}` never matches when
/// `user` is empty). Both must be well-formed; unsafe destinations never match. Never throws.
bool destination_matches(std::string_view pattern, std::string_view destination,
                         std::string_view user) noexcept;

/// Decides by the first matching rule. Immutable after construction, so thread-safe.
class rules_authorizer final : public authorizer {
 public:
  /// `rules` empty = default_acl(). Throws std::invalid_argument for a malformed pattern,
  /// an empty `who`, or a rule without destinations or actions.
  explicit rules_authorizer(std::vector<acl_rule> rules = {});

  /// See the class comment.
  bool allowed(const principal& who, action what, std::string_view destination) const override;

  /// The rules in force, defaults included, for start-up logs.
  const std::vector<acl_rule>& rules() const noexcept { return rules_; }

 private:
  std::vector<acl_rule> rules_;
};

}  // namespace auth
