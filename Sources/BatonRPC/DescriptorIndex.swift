import Foundation
import SwiftProtobuf

/// The protobuf files a server can describe, indexed by file name and by fully-qualified symbol
/// (messages, nested messages, enums, services, methods), with their transitive dependencies.
public struct DescriptorIndex: Sendable {
    private var files: [String: Google_Protobuf_FileDescriptorProto] = [:]
    private var serialized: [String: Data] = [:]
    private var symbols: [String: String] = [:]

    /// An index of the files in a serialized `FileDescriptorSet`.
    public init(fileDescriptorSet data: Data) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data)
        for file in set.file {
            files[file.name] = file
            serialized[file.name] = try file.serializedBytes()
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for message in file.messageType { indexMessage(message, prefix: prefix, file: file.name) }
            for enumType in file.enumType { symbols[prefix + enumType.name] = file.name }
            for service in file.service {
                symbols[prefix + service.name] = file.name
                for method in service.method { symbols[prefix + service.name + "." + method.name] = file.name }
            }
            for ext in file.extension { symbols[prefix + ext.name] = file.name }
        }
    }

    private mutating func indexMessage(_ message: Google_Protobuf_DescriptorProto, prefix: String, file: String) {
        let name = prefix + message.name
        symbols[name] = file
        for nested in message.nestedType { indexMessage(nested, prefix: name + ".", file: file) }
        for enumType in message.enumType { symbols[name + "." + enumType.name] = file }
    }

    /// The file that defines `symbol` (a leading dot is ignored).
    public func file(containingSymbol symbol: String) -> String? {
        symbols[symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol]
    }

    /// Whether `name` is a known file.
    public func contains(file name: String) -> Bool { files[name] != nil }

    /// The serialized descriptors of `name` and every file it depends on, `name` first.
    public func serializedClosure(of name: String) -> [Data] {
        var order: [String] = []
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            guard !seen.contains(next), let file = files[next] else { continue }
            seen.insert(next)
            order.append(next)
            pending.append(contentsOf: file.dependency.reversed())
        }
        return order.compactMap { serialized[$0] }
    }
}
