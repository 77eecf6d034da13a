/// A request target split into its path and decoded query parameters (`+` and `%XX` decoded).
///
/// ```swift
/// let target = URLQuery("/v1/workflows?status=WORKFLOW_STATUS_RUNNING")
/// target.path                // "/v1/workflows"
/// target["status"]           // "WORKFLOW_STATUS_RUNNING"
/// ```
public struct URLQuery: Sendable, Equatable {
    /// The path, without the query.
    public var path: String
    /// The parameters in order (a name may repeat).
    public var parameters: [(name: String, value: String)]

    /// Parses a request target (`:path`).
    public init(_ target: String) {
        guard let mark = target.firstIndex(of: "?") else {
            path = target
            parameters = []
            return
        }
        path = String(target[..<mark])
        parameters = target[target.index(after: mark)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in PercentEncoding.decode(text.replacingPlus()) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    public static func == (lhs: URLQuery, rhs: URLQuery) -> Bool {
        lhs.path == rhs.path && lhs.parameters.elementsEqual(rhs.parameters) { $0 == $1 }
    }
}

extension Substring {
    fileprivate func replacingPlus() -> String {
        String(map { $0 == "+" ? " " : $0 })
    }
}
