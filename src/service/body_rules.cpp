#include "service/body_rules.hpp"

#include <icp/auth.hpp>
#include <icp/json.hpp>

#include "json/icp_reader.hpp"
#include "json/path.hpp"

#include <boost/json/value_from.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace icp::detail {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 3> kServerFields{"id", "createdAt", "updatedAt"};

bool is_server_field(std::string_view key) {
  return std::ranges::find(kServerFields, key) != kServerFields.end();
}

json::string timestamp_value(Timestamp at) { return {format_timestamp(at)}; }

/// Where a detail names `userIds[index]`.
std::string user_id_path(std::size_t index) {
  std::string path;
  detail::append_path_key(path, "userIds");
  detail::append_path_index(path, index);
  return path;
}

/// Validates the complete ICP; problems found before (`early`) come first.
/// User ids are held to what every store can key on (is_valid_user_id): a
/// rule for writes, so ICPs stored before it was made still read.
Result<Icp> validated(const json::object& complete, std::vector<ErrorDetail> early) {
  auto icp = icp_from_json(complete);
  if (icp) {
    for (std::size_t i = 0; i < icp->user_ids.size(); ++i) {
      if (!is_valid_user_id(icp->user_ids[i])) {
        early.push_back(
            {user_id_path(i),
             fmt::format("must be at most {} bytes, without control characters", kMaxUserIdBytes)});
      }
    }
  }
  if (icp && early.empty()) return icp;
  if (!icp) {
    const auto later = std::move(icp).error().details;
    early.insert(early.end(), later.begin(), later.end());
  }
  return invalid_icp(std::move(early));
}

}  // namespace

Error not_an_object() { return invalid_icp({ErrorDetail{"", "expected an ICP object"}}); }

Result<Icp> icp_from_create_body(const json::object& body, std::string_view id, Timestamp now,
                                 std::string_view creator) {
  std::vector<ErrorDetail> early;
  json::object complete;
  complete["id"] = id;
  for (const auto& field : body) {
    if (is_server_field(field.key())) {
      early.push_back({std::string(field.key()), "is set by the server"});
    } else {
      complete[field.key()] = field.value();
    }
  }
  complete["createdAt"] = timestamp_value(now);
  complete["updatedAt"] = timestamp_value(now);
  // The creator is always listed, once; a userIds that is not an array is
  // left for validation to report.
  auto& user_ids = complete["userIds"];
  if (user_ids.is_null()) user_ids = json::array{};
  if (auto* listed = user_ids.if_array()) {
    const bool present = std::ranges::any_of(*listed, [&](const json::value& user_id) {
      return user_id.is_string() && user_id.get_string() == creator;
    });
    if (!present) listed->emplace_back(creator);
  }
  return validated(complete, std::move(early));
}

Result<Icp> icp_from_patch(const Icp& current, const json::object& patch, Timestamp now) {
  std::vector<ErrorDetail> early;
  json::object merged = json::value_from(current).as_object();
  for (const auto& field : patch) {
    if (is_server_field(field.key())) {
      early.push_back({std::string(field.key()), "is set by the server"});
    } else if (const auto* user_ids = field.value().if_array();
               field.key() == "userIds" && user_ids != nullptr && user_ids->empty()) {
      // An ICP without members could be reached only by admins: orphaned.
      early.push_back({"userIds", "must keep at least one member"});
    } else {
      // A null for a key that is not clearable stays null, and validation
      // says why that key cannot be null.
      merged[field.key()] = field.value();
    }
  }
  const Timestamp next_update = std::max(now, current.updated_at + std::chrono::milliseconds{1});
  merged["updatedAt"] = timestamp_value(next_update);
  auto updated = validated(merged, std::move(early));
  // Not in the JSON, so the merge cannot change it.
  if (updated) updated->organization = current.organization;
  return updated;
}

}  // namespace icp::detail
