import BatonServer
import Testing

/// `--auth-file`: accepted shapes, and errors that name the line:column and the field.
@Suite(.timeLimit(.minutes(1))) struct AuthFileTests {
    static let digest = String(repeating: "ab", count: 32)

    @Test func tokensWithRolesAndQueues() throws {
        let file = try AuthFile(yaml: """
            tokens:
              - { name: r, sha256: \(Self.digest), role: reader }
              - name: w
                sha256: \(String(repeating: "CD", count: 32))
                role: worker
                task_queues: [payments, mail]
            """, path: "auth.yaml")
        #expect(file.tokens.map(\.name) == ["r", "w"])
        #expect(file.tokens.map(\.role) == [.reader, .worker])
        #expect(file.tokens[0].digest == Array(repeating: 0xab, count: 32))
        #expect(file.tokens[1].digest == Array(repeating: 0xcd, count: 32))
        #expect(file.tokens[1].taskQueues == ["payments", "mail"] && file.tokens[0].taskQueues == nil)
    }

    @Test func aTokenMayHaveItsOwnRate() throws {
        let file = try AuthFile(yaml: """
            tokens:
              - { name: ci, sha256: \(Self.digest), role: operator, requests_per_second: 20 }
              - { name: r, sha256: \(String(repeating: "cd", count: 32)), role: reader }
            """, path: "auth.yaml")
        #expect(file.tokens.map(\.requestsPerSecond) == [20, nil])
        #expect(throws: AuthFileError.self) {
            try AuthFile(yaml: "tokens:\n  - { name: r, sha256: \(Self.digest), role: reader, requests_per_second: fast }",
                         path: "auth.yaml")
        }
    }

    @Test(arguments: [
        ("tokens: []", "auth.yaml:1:9: tokens: the list is empty"),
        ("other: 1", "tokens: missing"),
        ("tokens:\n  - { name: r, sha256: \(digest), role: boss }", "auth.yaml:2:96: role: 'boss' is not one of reader, operator, worker, admin"),
        ("tokens:\n  - { name: r, sha256: abc, role: reader }", "auth.yaml:2:24: sha256: expected 64 hex digits"),
        ("tokens:\n  - { name: r, role: reader }", "auth.yaml:2:5: sha256: missing for 'r'"),
        ("tokens:\n  - { name: 'a b', sha256: \(digest), role: reader }", "auth.yaml:2:13: name: 'a b' must be"),
        ("tokens:\n  - { name: r, sha256: \(digest), role: reader }\n  - { name: r, sha256: \(String(repeating: "cd", count: 32)), role: admin }",
         "auth.yaml:3:13: name: 'r' is used twice"),
        ("tokens:\n  - { name: r, sha256: \(digest), role: reader }\n  - { name: s, sha256: \(digest), role: admin }",
         "auth.yaml:3:24: sha256: the same token as another entry"),
        ("tokens:\n  - { name: r, sha256: \(digest), role: reader, task_queues: [q] }", "task_queues: only a worker token"),
        ("tokens:\n  - { name: r, sha256: \(digest), role: reader, extra: 1 }", "extra: unknown field"),
        ("tokens:\n\t- x", "auth.yaml: not YAML"),
    ])
    func refusedNamingWhereAndWhat(_ yaml: String, _ expected: String) {
        #expect {
            _ = try AuthFile(yaml: yaml, path: "auth.yaml")
        } throws: { error in
            "\(error)".contains(expected) && "\(error)".hasPrefix("--auth-file: auth.yaml")
        }
    }
}
