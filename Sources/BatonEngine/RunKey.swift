import BatonCore

/// How runs are keyed in the store. Each run of a workflow id has its own run id; the latest run is
/// stored under the workflow id itself, and a closed run replaced by a new one (id reuse after
/// close) under `ID/RUN_ID` — workflow ids never contain '/', so the two never collide.
///
/// ```swift
/// RunKey.archived("order-7", runID: "5f0c…")     // "order-7/5f0c…"
/// RunKey.split("order-7/5f0c…")                 // ("order-7", "5f0c…")
/// RunKey.split("order-7")                       // ("order-7", nil)
/// ```
public enum RunKey {
    /// The storage key of the closed run `runID` of `workflowID`, once a newer run took the id.
    public static func archived(_ workflowID: String, runID: String) -> String {
        "\(workflowID)/\(runID)"
    }

    /// The workflow id a storage key belongs to and, for an archived run, the run id in the key.
    public static func split(_ key: String) -> (workflowID: String, archivedRunID: String?) {
        // Searched byte by byte ("/" is ASCII): no grapheme breaking on the commit path.
        guard let slash = key.utf8.firstIndex(of: 0x2F) else { return (key, nil) }
        return (String(key[..<slash]), String(key[key.utf8.index(after: slash)...]))
    }

    /// The run id of a stored run: the one its `WorkflowStarted` recorded; for a run recorded before
    /// run ids existed, the one its archive key carries, else its start time in milliseconds.
    public static func runID(key: String, recorded: String?, startedAt: Instant?) -> String {
        if let recorded { return recorded }
        if let archived = split(key).archivedRunID { return archived }
        return String(startedAt?.millisecondsSinceEpoch ?? 0)
    }

    /// A new random run id: a version-4 UUID in lowercase hex, like Temporal's run ids.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append("-") }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return text
    }

    /// Whether `runID` can name a run: 1–200 printable ASCII characters without spaces or '/'.
    public static func isValidRunID(_ runID: String) -> Bool {
        !runID.isEmpty && runID.utf8.count <= 200
            && runID.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: "/") }
    }
}

extension WorkflowState {
    /// The workflow id users see (an archived run's storage key without its run id).
    public var publicWorkflowID: String { RunKey.split(workflowID).workflowID }
    /// The run's id as users see it (see ``RunKey/runID(key:recorded:startedAt:)``).
    public var publicRunID: String { RunKey.runID(key: workflowID, recorded: runID, startedAt: startedAt) }
}
