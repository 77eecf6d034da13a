// C++ gRPC reference server for bench/rpc.sh: grpc.testing.TestService with the
// same echo semantics as Baton's conformance service (UnaryCall answers a payload
// of response_size zero bytes; a requested response_status is returned as the
// call's status). Uses the callback API, the one gRPC recommends for C++ servers.
//
//   echo_server [HOST:PORT]        (default 127.0.0.1:0)
// Prints "cpp-echo: listening on HOST:PORT" once serving; SIGTERM/SIGINT stop it.

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc/testing/test.grpc.pb.h"

namespace {

class EchoService final : public grpc::testing::TestService::CallbackService {
  grpc::ServerUnaryReactor* EmptyCall(grpc::CallbackServerContext* ctx, const grpc::testing::Empty*,
                                      grpc::testing::Empty*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* UnaryCall(grpc::CallbackServerContext* ctx,
                                      const grpc::testing::SimpleRequest* req,
                                      grpc::testing::SimpleResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (req->has_response_status() && req->response_status().code() != 0) {
      reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(req->response_status().code()),
                                   req->response_status().message()));
      return reactor;
    }
    if (req->response_size() < 0) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "negative response_size"));
      return reactor;
    }
    resp->mutable_payload()->set_body(std::string(static_cast<size_t>(req->response_size()), '\0'));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:0";

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "cpp-echo: cannot listen on %s\n", addr.c_str());
    return 1;
  }
  std::string host = addr.substr(0, addr.rfind(':'));
  std::printf("cpp-echo: listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown();
  server->Wait();
  return 0;
}
