/// A `HOST:PORT` to listen on or connect to, validated (`[::1]:7400` for IPv6).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host name or IP literal (without brackets).
    public var host: String
    /// The TCP port; 0 asks for an ephemeral port.
    public var port: Int

    /// The default API address, `127.0.0.1:7400`.
    public static let `default` = ListenAddress(host: "127.0.0.1", port: 7400)

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; throws a message naming what is wrong.
    public init(parsing text: String) throws(ServerError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ServerError(.invalidConfiguration, "address '\(text)' must look like [IPv6]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ServerError(.invalidConfiguration, "address '\(text)' must look like HOST:PORT, e.g. 127.0.0.1:7400")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty else {
            throw ServerError(.invalidConfiguration, "address '\(text)' has no host")
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw ServerError(.invalidConfiguration, "address '\(text)' has an invalid port '\(portPart)' (0-65535)")
        }
        self.init(host: String(hostPart), port: port)
    }

    /// `HOST:PORT`, bracketing IPv6 literals.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
