#include <icp/access.hpp>

#include <catch2/catch.hpp>

namespace {

icp::Icp owned_by(std::vector<std::string> user_ids) {
  icp::Icp icp;
  icp.user_ids = std::move(user_ids);
  return icp;
}

}  // namespace

TEST_CASE("members and admins may read, change and delete; nobody else", "[access]") {
  const auto icp = owned_by({"user_abc123", "user_def456"});
  using icp::AuthContext;
  for (const auto& caller : {AuthContext::user("user_abc123"), AuthContext::user("user_def456"),
                             AuthContext::admin("user_admin"), AuthContext::admin("user_abc123")}) {
    CAPTURE(caller.user_id());
    CHECK(icp::can_read(icp, caller));
    CHECK(icp::can_update(icp, caller));
    CHECK(icp::can_delete(icp, caller));
  }
  for (const auto& caller :
       {AuthContext::user("user_000001"), AuthContext::user("USER_ABC123"),
        AuthContext::user("user_abc12"), AuthContext::user(""), AuthContext::anonymous()}) {
    CAPTURE(caller.user_id());
    CHECK_FALSE(icp::can_read(icp, caller));
    CHECK_FALSE(icp::can_update(icp, caller));
    CHECK_FALSE(icp::can_delete(icp, caller));
  }
}

TEST_CASE("membership is exact and needs a signed-in caller", "[access]") {
  CHECK(icp::is_member(owned_by({"a", "b"}), icp::AuthContext::user("b")));
  CHECK_FALSE(icp::is_member(owned_by({"a", "b"}), icp::AuthContext::user("ab")));
  CHECK_FALSE(icp::is_member(owned_by({}), icp::AuthContext::admin("a")));
  CHECK_FALSE(icp::is_member(owned_by({""}), icp::AuthContext::anonymous()));
}

TEST_CASE("only admins may list every ICP", "[access]") {
  CHECK(icp::can_list_all(icp::AuthContext::admin("root")));
  CHECK_FALSE(icp::can_list_all(icp::AuthContext::user("root")));
  CHECK_FALSE(icp::can_list_all(icp::AuthContext::anonymous()));
}

TEST_CASE("AuthContext says who is calling", "[access]") {
  const auto anonymous = icp::AuthContext::anonymous();
  CHECK_FALSE(anonymous.is_authenticated());
  CHECK_FALSE(anonymous.is_admin());
  CHECK(anonymous.user_id().empty());
  const auto admin = icp::AuthContext::admin("user_admin");
  CHECK(admin.is_authenticated());
  CHECK(admin.is_admin());
  CHECK(admin.user_id() == "user_admin");
  CHECK_FALSE(icp::AuthContext::user("u").is_admin());
}

TEST_CASE("nobody reaches an ICP of another organization, admins included", "[access]") {
  using icp::AuthContext;
  auto icp = owned_by({"user_abc123"});
  icp.organization = "org_b";
  for (const auto& caller :
       {AuthContext::user("user_abc123"), AuthContext::admin("user_admin"),
        AuthContext::user("user_abc123", "org_a"), AuthContext::admin("user_admin", "org_a"),
        AuthContext::admin("user_admin", "ORG_B"), AuthContext::admin("user_admin", "org_b ")}) {
    CAPTURE(caller.user_id(), caller.organization());
    CHECK_FALSE(icp::can_read(icp, caller));
    CHECK_FALSE(icp::can_update(icp, caller));
    CHECK_FALSE(icp::can_delete(icp, caller));
  }
  CHECK(icp::can_read(icp, AuthContext::user("user_abc123", "org_b")));
  CHECK(icp::can_delete(icp, AuthContext::admin("user_admin", "org_b")));
  CHECK_FALSE(icp::can_read(icp, AuthContext::user("user_other", "org_b")));
  // A caller's organization is what they were given; anonymous has none.
  CHECK(AuthContext::admin("user_admin", "org_b").organization() == "org_b");
  CHECK(AuthContext::user("user_abc123").organization().empty());
  CHECK(AuthContext::anonymous().organization().empty());
}
