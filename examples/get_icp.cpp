// The README's example: open the embedded SQLite store, put an ICP, and get
// it through the service as three different callers.
#include <icp/icp.hpp>

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

int main() {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("icp-example-{}.db", ::getpid());
  std::filesystem::remove(path);

  // [get-icp]
  auto store = icp::open_sqlite_store(path, {.create_if_missing = true});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 1;
  }

  icp::Icp team_icp;
  team_icp.id = icp::new_icp_id();
  team_icp.name = "Enterprise Tech Decision Makers";
  team_icp.created_at =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  team_icp.updated_at = team_icp.created_at;
  team_icp.user_ids = {"user_abc123"};
  team_icp.lead_provider_criteria = {
      {.provider = "baseProvider", .filters = boost::json::object{{"job_titles", {"CTO"}}}}};
  if (auto written = (*store)->write({.icps = {&team_icp, 1}}); !written) return 1;

  const icp::IcpService service(*store);
  for (const auto& caller :
       {icp::AuthContext::user("user_abc123"), icp::AuthContext::user("user_000001"),
        icp::AuthContext::anonymous()}) {
    const icp::Result<icp::Icp> found = service.get(team_icp.id, caller);
    if (found) {
      fmt::print("200 {}\n", icp::to_json(*found));
    } else {
      fmt::print("{} {}\n", icp::http_status(found.error().code), icp::error_body(found.error()));
    }
  }
  // [get-icp]

  std::filesystem::remove(path);
  return 0;
}
