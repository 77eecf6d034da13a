/// One HTTP/2 header field (pseudo-headers such as `:path` included), as received or to send.
///
/// Names are lower-case on the wire; Baton keeps them as received.
public struct HTTP2Header: Sendable, Hashable {
    /// The field name, e.g. `content-type` or `:status`.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTP2Header {
    /// The value of the first field named `name`, if any.
    public func first(named name: String) -> String? {
        for header in self where header.name == name {
            return header.value
        }
        return nil
    }
}
