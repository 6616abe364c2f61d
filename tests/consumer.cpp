// A user's program: gets an ICP through the service and checks the answer,
// from a fresh SQLite file when icp::sqlite was built (<icp/config.hpp>),
// else from the memory store of icp::core alone. With icp::postgres it also
// links and calls the PostgreSQL store (no server needed: it must report
// that none listens). Exit 0 on success.
#include <icp/icp.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

#if ICP_WITH_SQLITE
// One file per process: ctest runs the consumers side by side.
const auto kPath = std::filesystem::temp_directory_path() /
                   ("icp-consumer-test-" + std::to_string(::getpid()) + ".db");
#endif

icp::Result<std::shared_ptr<icp::IcpStore>> open_store() {
#if ICP_WITH_SQLITE
  std::filesystem::remove(kPath);
  return icp::open_sqlite_store(kPath, {.create_if_missing = true});
#else
  return icp::make_memory_store();
#endif
}

}  // namespace

int main() {
  auto store = open_store();
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
#if ICP_WITH_SQLITE
  store->reset();
  std::filesystem::remove(kPath);
#endif
  if (!got || got->name != "Consumer") return 1;
  if (denied || icp::http_status(denied.error().code) != 403) return 1;
#if ICP_WITH_POSTGRES
  const auto nobody = icp::open_postgres_store("postgresql://127.0.0.1:1/icp");
  if (nobody || nobody.error().message.find("cannot open") == std::string::npos) return 1;
#endif
  const auto version = icp::version();
  std::printf("icp %.*s: %s\n", static_cast<int>(version.size()), version.data(),
              icp::to_json(*got).c_str());
  return 0;
}
