import BatonHTTP2

/// Custom metadata of a call (gRPC headers or trailers), in order, keys lower-case.
///
/// Keys ending in `-bin` carry binary values, base64-encoded on the wire; other values are ASCII.
public struct Metadata: Sendable, Equatable, Sequence {
    /// A metadata value.
    public enum Value: Sendable, Equatable {
        /// A printable ASCII value.
        case string(String)
        /// A binary value (for `-bin` keys).
        case binary([UInt8])
    }

    /// One key and value.
    public struct Entry: Sendable, Equatable {
        /// The lower-case key.
        public var key: String
        /// The value.
        public var value: Value
    }

    /// The entries in order.
    public private(set) var entries: [Entry] = []

    /// Empty metadata.
    public init() {}

    /// Metadata from string pairs.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { add(key, value) }
    }

    /// Appends a string value.
    public mutating func add(_ key: String, _ value: String) {
        entries.append(Entry(key: key.lowercased(), value: .string(value)))
    }

    /// Appends a binary value (the key should end in `-bin`).
    public mutating func add(_ key: String, binary: [UInt8]) {
        entries.append(Entry(key: key.lowercased(), value: .binary(binary)))
    }

    /// The first string value for `key`.
    public subscript(key: String) -> String? {
        for entry in entries where entry.key == key {
            if case .string(let value) = entry.value { return value }
        }
        return nil
    }

    /// The first binary value for `key`.
    public func binary(_ key: String) -> [UInt8]? {
        for entry in entries where entry.key == key {
            if case .binary(let value) = entry.value { return value }
        }
        return nil
    }

    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// Iterates the entries.
    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// Header names that belong to the protocol, never to custom metadata.
    static let reserved: Set<String> = [
        "content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status",
        "grpc-message", "content-length", "host", "connection",
    ]

    /// Custom metadata from received headers (pseudo-headers and protocol fields removed).
    /// Undecodable `-bin` values are dropped.
    public init(headers: [HTTP2Header]) {
        for header in headers where !header.name.hasPrefix(":") && !Self.reserved.contains(header.name) {
            if header.name.hasSuffix("-bin") {
                if let bytes = Base64.decode(header.value) { add(header.name, binary: bytes) }
            } else {
                add(header.name, header.value)
            }
        }
    }

    /// The entries as header fields (binary values base64-encoded, unpadded).
    public var headers: [HTTP2Header] {
        entries.map { entry in
            switch entry.value {
            case .string(let value): HTTP2Header(entry.key, value)
            case .binary(let bytes): HTTP2Header(entry.key, Base64.encode(bytes, padded: false))
            }
        }
    }
}
