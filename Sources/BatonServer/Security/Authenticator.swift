import BatonCore
import BatonRPC
import Crypto

/// Checks `authorization: Bearer TOKEN` against an ``AuthFile``: the presented token's SHA-256 is
/// compared with every accepted digest in constant time (no early exit, so timing tells nothing
/// about how close a guess was). Missing or unknown → UNAUTHENTICATED; a role that may not →
/// PERMISSION_DENIED. Messages never contain the token.
public struct Authenticator: Sendable {
    private let tokens: [AuthFile.Token]
    private let rates: TokenRateLimiter

    /// Accepts the tokens of `file`; a token without a `requests_per_second` of its own may make
    /// `requestsPerSecond` calls a second (0: unlimited).
    public init(_ file: AuthFile, requestsPerSecond: Int = 0) {
        tokens = file.tokens
        rates = TokenRateLimiter(defaultRate: requestsPerSecond)
    }

    /// The token presented in `authorization`, or UNAUTHENTICATED.
    public func authenticate(_ authorization: String?) -> Result<AuthFile.Token, RPCError> {
        guard let authorization, !authorization.isEmpty else {
            return .failure(RPCError(code: .unauthenticated,
                                     message: "no credentials: send `authorization: Bearer TOKEN` (baton --token)"))
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(RPCError(code: .unauthenticated, message: "authorization: expected `Bearer TOKEN`"))
        }
        let digest = Array(SHA256.hash(data: Array(parts[1].utf8)))
        var found: AuthFile.Token?
        for token in tokens {
            var difference: UInt8 = 0
            for (a, b) in zip(token.digest, digest) { difference |= a ^ b }
            if difference == 0 { found = token }
        }
        guard let found else { return .failure(RPCError(code: .unauthenticated, message: "the token is not accepted")) }
        return .success(found)
    }

    /// Whether the call to `path` (`/service/method`) with `authorization` may go ahead; nil when it may.
    public func authorize(path: String, authorization: String?) -> RPCError? {
        let trimmed = path.dropFirst()
        guard let slash = trimmed.lastIndex(of: "/") else { return nil }
        let service = String(trimmed[..<slash])
        if service == "grpc.health.v1.Health" { return nil }  // probes need no token
        let method = String(trimmed[trimmed.index(after: slash)...])
        switch authenticate(authorization) {
        case .failure(let error):
            return error
        case .success(let token):
            if token.role.allows(service: service, method: method) { return rates.admit(token) }
            return RPCError(code: .permissionDenied,
                            message: "token '\(token.name)' (role \(token.role.rawValue)) may not call \(service)/\(method)")
        }
    }

    /// Takes one call from `token`'s rate (``TokenRateLimiter``); the error when it has none left.
    public func admit(_ token: AuthFile.Token) -> RPCError? {
        rates.admit(token)
    }

    /// Whether the worker token in `authorization` may take tasks of `queue`; nil when it may.
    public func authorizeQueue(_ queue: String, authorization: String?) -> RPCError? {
        guard case .success(let token) = authenticate(authorization), let queues = token.taskQueues,
              !queues.contains(queue) else { return nil }
        return RPCError(code: .permissionDenied,
                        message: "token '\(token.name)' may not take tasks of queue '\(queue)' (it may: "
                            + queues.sorted().joined(separator: ", ") + ")")
    }

    /// The hex SHA-256 of `token` (what an auth file lists).
    public static func digest(of token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }
}
