import BatonCore
import Foundation
import Yams

/// The tokens a server accepts, from the YAML file `--auth-file` names: each with a name, the
/// SHA-256 of the token (never the token itself), a role, for workers the task queues it may
/// poll, and optionally its own `requests_per_second` (else the server's `--limit requests_per_second`).
///
/// ```yaml
/// tokens:
///   - name: ci-deployer
///     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
///     role: operator
///     requests_per_second: 20
///   - name: payments-worker
///     sha256: …
///     role: worker
///     task_queues: [payments]
/// ```
public struct AuthFile: Sendable {
    /// One accepted token.
    public struct Token: Sendable {
        /// Its name (in log lines; never the token).
        public var name: String
        /// SHA-256 of the token.
        public var digest: [UInt8]
        /// What it may do.
        public var role: Role
        /// For a worker: the task queues it may poll (nil: every queue).
        public var taskQueues: Set<String>?
        /// Calls a second this token may make (`requests_per_second`); nil: the server's limit.
        public var requestsPerSecond: Int?
    }

    /// The tokens, in file order.
    public var tokens: [Token]

    /// Reads `path`; errors name the file, the line:column and the field.
    public init(path: String) throws(AuthFileError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuthFileError(path: path, line: nil, message: "cannot read it: \(error.localizedDescription)")
        }
        try self.init(yaml: text, path: path)
    }

    /// Reads the YAML `text` (named `path` in errors).
    public init(yaml text: String, path: String) throws(AuthFileError) {
        func fail(_ node: Node?, _ message: String) -> AuthFileError {
            AuthFileError(path: path, line: node?.mark.map { ($0.line, $0.column) }, message: message)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw AuthFileError(path: path, line: nil, message: "not YAML: \(error)")
        } catch {
            throw AuthFileError(path: path, line: nil, message: "not YAML: \(error)")
        }
        guard let root, let mapping = root.mapping else { throw fail(root, "expected a mapping with `tokens:`") }
        guard let list = mapping["tokens"] else { throw fail(root, "tokens: missing (a list of tokens)") }
        guard let entries = list.sequence else { throw fail(list, "tokens: expected a list") }
        var tokens: [Token] = []
        var names: Set<String> = [], digests: Set<[UInt8]> = []
        for entry in entries {
            guard let fields = entry.mapping else { throw fail(entry, "tokens: each entry is a mapping (name, sha256, role)") }
            for (key, _) in fields where !["name", "sha256", "role", "task_queues", "requests_per_second"].contains(key.string ?? "") {
                throw fail(key, "\(key.string ?? "?"): unknown field (expected name, sha256, role, task_queues, requests_per_second)")
            }
            guard let nameNode = fields["name"], let name = nameNode.string, !name.isEmpty else {
                throw fail(entry, "name: missing")
            }
            guard name.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
                throw fail(nameNode, "name: '\(name)' must be 1 to 128 of A-Z a-z 0-9 _ . -")
            }
            guard names.insert(name).inserted else { throw fail(nameNode, "name: '\(name)' is used twice") }
            guard let digestNode = fields["sha256"], let hex = digestNode.string else {
                throw fail(entry, "sha256: missing for '\(name)' (the token's SHA-256: baton token hash TOKEN)")
            }
            guard hex.count == 64, let digest = Hex.decode(hex) else {
                throw fail(digestNode, "sha256: expected 64 hex digits (baton token hash TOKEN), got \(hex.count) characters")
            }
            guard digests.insert(digest).inserted else { throw fail(digestNode, "sha256: the same token as another entry") }
            guard let roleNode = fields["role"], let roleName = roleNode.string else { throw fail(entry, "role: missing for '\(name)'") }
            guard let role = Role(rawValue: roleName) else {
                throw fail(roleNode, "role: '\(roleName)' is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var queues: Set<String>?
            if let queueNode = fields["task_queues"] {
                guard role == .worker else { throw fail(queueNode, "task_queues: only a worker token has task queues") }
                guard let items = queueNode.sequence, items.allSatisfy({ $0.string?.isEmpty == false }) else {
                    throw fail(queueNode, "task_queues: expected a list of queue names")
                }
                queues = Set(items.compactMap(\.string))
            }
            var rate: Int?
            if let rateNode = fields["requests_per_second"] {
                guard let text = rateNode.string, text.count <= 7, let value = Int(text), (0...1_000_000).contains(value) else {
                    throw fail(rateNode, "requests_per_second: expected a whole number from 0 to 1000000 (0: unlimited)")
                }
                rate = value
            }
            tokens.append(Token(name: name, digest: digest, role: role, taskQueues: queues, requestsPerSecond: rate))
        }
        guard !tokens.isEmpty else { throw fail(list, "tokens: the list is empty (nobody could call the server)") }
        self.tokens = tokens
    }
}

/// An auth file that cannot be used: the file, where, and what.
public struct AuthFileError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// Line and column (1-based), when the problem is at a place.
    public var line: (Int, Int)?
    /// What is wrong, starting with the field.
    public var message: String

    /// `--auth-file: /etc/baton/auth.yaml:4:11: role: 'boss' is not one of …`.
    public var description: String {
        "--auth-file: \(path)" + (line.map { ":\($0.0):\($0.1)" } ?? "") + ": \(message)"
    }
}
