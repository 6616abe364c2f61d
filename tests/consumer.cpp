// A user's program: links icp::core and icp::sqlite, gets an ICP through the
// service from a fresh SQLite file, and checks the answer. With icp::postgres
// it also links and calls the PostgreSQL store (no server needed: it must
// report that none listens). Exit 0 on success.
#include <icp/icp.hpp>

#include <cstdio>
#include <filesystem>

int main() {
  const auto path = std::filesystem::temp_directory_path() / "icp-consumer-test.db";
  std::filesystem::remove(path);
  auto store = icp::open_sqlite_store(path, {.create_if_missing = true});
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  icp::Icp icp;
  icp.id = icp::new_icp_id();
  icp.name = "Consumer";
  icp.user_ids = {"user_1"};
  if (!(*store)->write({.icps = {&icp, 1}})) return 1;

  const icp::IcpService service(*store);
  const auto got = service.get(icp.id, icp::AuthContext::user("user_1"));
  const auto denied = service.get(icp.id, icp::AuthContext::user("user_2"));
  std::filesystem::remove(path);
  if (!got || got->name != "Consumer") return 1;
  if (denied || icp::http_status(denied.error().code) != 403) return 1;
#ifdef CONSUMER_WITH_POSTGRES
  const auto nobody = icp::open_postgres_store("postgresql://127.0.0.1:1/icp");
  if (nobody || nobody.error().message.find("cannot open") == std::string::npos) return 1;
#endif
  std::puts(icp::to_json(*got).c_str());
  return 0;
}
