import BatonCore
import BatonEngine
import BatonRPC

/// Opaque page tokens: `v1:<kind>:<position>:<checksum>`, bound to the request they continue, so a
/// token from another workflow or a tampered one is INVALID_ARGUMENT rather than a wrong page.
enum PageToken {
    /// A history token continuing after `eventID` of `workflowID`.
    static func encode(eventID: Int64, workflowID: String) -> String {
        "v1:h:\(eventID):\(checksum("h", eventID, workflowID))"
    }

    /// The event id a history token continues after (0 for an empty token).
    static func decodeEventID(_ token: String, workflowID: String) throws(RPCError) -> Int64 {
        guard !token.isEmpty else { return 0 }
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", parts[1] == "h", let eventID = Int64(parts[2]), eventID >= 0,
              String(parts[3]) == checksum("h", eventID, workflowID)
        else {
            throw RPCError(code: .invalidArgument,
                           message: "page_token: not a token from a previous GetHistory of workflow '\(workflowID)'")
        }
        return eventID
    }

    /// A listing token continuing after `cursor`, bound to the listing's filter (`scope`).
    static func encode(cursor: WorkflowListCursor, scope: String) -> String {
        let id = Array(cursor.workflowID.utf8).map { String($0, radix: 16) }.joined(separator: ".")
        let position = "\(cursor.startedAt.millisecondsSinceEpoch)/\(id)"
        return "v1:w:\(position):\(checksum("w", 0, scope + "|" + position))"
    }

    /// The cursor a listing token continues after (nil for an empty token).
    static func decodeCursor(_ token: String, scope: String) throws(RPCError) -> WorkflowListCursor? {
        guard !token.isEmpty else { return nil }
        let invalid = RPCError(code: .invalidArgument,
                               message: "page_token: not a token from a previous ListWorkflows with the same filters")
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", parts[1] == "w",
              String(parts[3]) == checksum("w", 0, scope + "|" + parts[2])
        else { throw invalid }
        let position = parts[2].split(separator: "/", omittingEmptySubsequences: false)
        guard position.count == 2, let millis = Int64(position[0]) else { throw invalid }
        var bytes: [UInt8] = []
        for piece in position[1].split(separator: ".") {
            guard let byte = UInt8(piece, radix: 16) else { throw invalid }
            bytes.append(byte)
        }
        return WorkflowListCursor(startedAt: Instant(millisecondsSinceEpoch: millis),
                                  workflowID: String(decoding: bytes, as: UTF8.self))
    }

    /// FNV-1a over the token's kind, position and scope, as 16 hex digits.
    static func checksum(_ kind: String, _ position: Int64, _ scope: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(kind)|\(position)|\(scope)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
