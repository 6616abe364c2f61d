#pragma once

// The query of a list request (`?limit=&cursor=&scope=`), and the error for
// a query parameter the adapter cannot take.

#include <icp/error.hpp>
#include <icp/service.hpp>

#include <boost/url/params_view.hpp>

#include <string>
#include <string_view>

namespace icp::detail {

/// `bad_request` naming the query parameter `name` and what is wrong with it.
[[nodiscard]] Error bad_query(std::string_view name, std::string message);

/// The list options from `?limit=&cursor=&scope=`; a parameter given twice,
/// out of range or unknown is an error. The cursor's text is kept in
/// `cursor`, which the options view.
[[nodiscard]] Result<ListOptions> list_options(const boost::urls::params_view& params,
                                               std::string& cursor);

}  // namespace icp::detail
