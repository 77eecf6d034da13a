import BatonRPC
import BatonServer
import Testing

/// Bearer tokens against the file's digests, and what each role may call.
@Suite(.timeLimit(.minutes(1))) struct AuthenticatorTests {
    static let file = try! AuthFile(yaml: """
        tokens:
          - { name: r, sha256: \(Authenticator.digest(of: "reader-secret")), role: reader }
          - { name: o, sha256: \(Authenticator.digest(of: "operator-secret")), role: operator }
          - { name: w, sha256: \(Authenticator.digest(of: "worker-secret")), role: worker, task_queues: [q] }
          - { name: a, sha256: \(Authenticator.digest(of: "admin-secret")), role: admin }
        """, path: "auth.yaml")
    let authenticator = Authenticator(file)

    @Test func theDigestIsSHA256() {
        #expect(Authenticator.digest(of: "test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    }

    @Test func missingMalformedAndUnknownTokensAreUnauthenticated() {
        for header in [nil, "", "Basic cmVhZGVy", "Bearer", "Bearer nope", "bearer reader-secretX"] as [String?] {
            let refusal = authenticator.authorize(path: "/baton.v1.WorkflowService/ListWorkflows", authorization: header)
            #expect(refusal?.code == .unauthenticated, "\(String(describing: header))")
            #expect(refusal.map { !$0.message.contains("secret") } ?? false)
        }
        #expect(authenticator.authorize(path: "/baton.v1.WorkflowService/ListWorkflows", authorization: "bearer reader-secret") == nil)
        #expect(authenticator.authorize(path: "/grpc.health.v1.Health/Check", authorization: nil) == nil)
    }

    @Test func eachRoleCallsItsMethodsOnly() {
        let calls: [(String, Set<String>)] = [
            ("/baton.v1.WorkflowService/DescribeWorkflow", ["r", "o", "a"]),
            ("/baton.v1.WorkflowService/StartWorkflow", ["o", "a"]),
            ("/baton.v1.WorkflowService/RegisterDefinition", ["o", "a"]),
            ("/baton.v1.WorkerService/PollActivityTask", ["w", "a"]),
            ("/baton.v1.AdminService/ResetCircuitBreaker", ["a"]),
            ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", ["r", "o", "w", "a"]),
        ]
        let secrets = ["r": "reader-secret", "o": "operator-secret", "w": "worker-secret", "a": "admin-secret"]
        for (path, allowed) in calls {
            for (name, secret) in secrets {
                let refusal = authenticator.authorize(path: path, authorization: "Bearer \(secret)")
                if allowed.contains(name) {
                    #expect(refusal == nil, "\(name) \(path)")
                } else {
                    #expect(refusal?.code == .permissionDenied, "\(name) \(path)")
                    #expect(refusal?.message.contains("token '\(name)'") == true)
                }
            }
        }
    }

    @Test func workersTakeTasksOfTheirQueuesOnly() {
        #expect(authenticator.authorizeQueue("q", authorization: "Bearer worker-secret") == nil)
        #expect(authenticator.authorizeQueue("other", authorization: "Bearer worker-secret")?.code == .permissionDenied)
        #expect(authenticator.authorizeQueue("other", authorization: "Bearer admin-secret") == nil)
    }
}
