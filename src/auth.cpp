#include <icp/auth.hpp>

#include "util/utf8.hpp"

namespace icp {

bool is_valid_user_id(std::string_view user_id) noexcept {
  return !user_id.empty() && user_id.size() <= kMaxUserIdBytes &&
         std::ranges::none_of(
             user_id, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }) &&
         detail::is_utf8(user_id);
}

}  // namespace icp
