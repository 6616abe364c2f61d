#include <icp/version.hpp>

namespace icp {

// Compiled into the library: the headers' kVersion as they were when it was built.
std::string_view version() noexcept { return kVersion; }

}  // namespace icp
