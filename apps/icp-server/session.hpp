#pragma once

// One connection of icp-server: reads a request's header, checks its framing
// (and, when its body is still to come, whether the caller may send it),
// reads the body, answers, and repeats while keep-alive.

#include "server.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace icp::server {

class Session;

/// A session for an accepted connection, not yet reading: register it with
/// the server first, then start() it.
[[nodiscard]] std::shared_ptr<Session> make_session(boost::asio::ip::tcp::socket socket,
                                                    Server& server, Serves serves);

/// Starts reading requests, on the session's own strand.
void start(const std::shared_ptr<Session>& session);

/// For shutdown: closes now if waiting for a request; else after the answer.
void stop_when_idle(const std::shared_ptr<Session>& session);

/// For the end of the shutdown time: closes whatever it is doing.
void close_now(const std::shared_ptr<Session>& session);

}  // namespace icp::server
