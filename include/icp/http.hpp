#pragma once

// The HTTP face of the five ICP operations, for any transport: messages
// (<icp/http/message.hpp>), authenticators (<icp/http/authenticator.hpp>)
// and the adapter (<icp/http/adapter.hpp>). No sockets here; icp-server and
// your own framework both call Adapter::handle().

#include <icp/http/adapter.hpp>
#include <icp/http/authenticator.hpp>
#include <icp/http/message.hpp>
