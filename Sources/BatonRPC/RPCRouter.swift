/// Maps method paths (`/package.Service/Method`) to handlers.
///
/// ```swift
/// var router = RPCRouter()
/// router.register("/grpc.health.v1.Health/Check", .unary(check))
/// ```
public struct RPCRouter: Sendable {
    private var handlers: [String: RPCHandler] = [:]
    /// Fully-qualified names of the services with at least one registered method, in registration order.
    public private(set) var serviceNames: [String] = []

    /// An empty router.
    public init() {}

    /// Registers `handler` at `path`, replacing any previous one.
    public mutating func register(_ path: String, _ handler: RPCHandler) {
        handlers[path] = handler
        if let service = Self.service(of: path), !serviceNames.contains(service) {
            serviceNames.append(service)
        }
    }

    /// The outcome of looking up a path.
    public enum Lookup {
        /// The method exists.
        case found(RPCHandler)
        /// The service exists but not this method.
        case unknownMethod(service: String, method: String)
        /// No such service (or a malformed path).
        case unknownService(String)
    }

    /// Looks up `path`.
    public func lookup(_ path: String) -> Lookup {
        if let handler = handlers[path] { return .found(handler) }
        guard let service = Self.service(of: path) else { return .unknownService(path) }
        if serviceNames.contains(service) {
            return .unknownMethod(service: service, method: String(path.split(separator: "/").last ?? ""))
        }
        return .unknownService(service)
    }

    /// The service part of `/service/method`, or nil when the path is malformed.
    static func service(of path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return String(parts[1])
    }
}
