import BatonProto
import Foundation
import SwiftProtobuf

/// Human-readable renderings of API values: statuses, times, durations and JSON values.
enum Formatting {
    /// `2026-11-25T08:39:08.123Z`, or `-` when unset.
    static func time(_ timestamp: Google_Protobuf_Timestamp?) -> String {
        guard let timestamp, timestamp.seconds != 0 || timestamp.nanos != 0 else { return "-" }
        // From the whole seconds and the nanoseconds, never through a floating-point Date: the text
        // shows the same millisecond as `--json` (a Double rounds .182 down to .181).
        var text = Date(timeIntervalSince1970: TimeInterval(timestamp.seconds)).formatted(Date.ISO8601FormatStyle())
        let millis = Int(timestamp.nanos / 1_000_000)
        let fraction = "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        text.insert(contentsOf: fraction, at: text.index(before: text.endIndex))
        return text
    }

    /// `850ms`, `2.5s`, `7s`, `12s`, `3m05s`, `2h03m`.
    static func duration(_ value: Google_Protobuf_Duration) -> String {
        let total = Double(value.seconds) + Double(value.nanos) / 1e9
        if total < 1 { return "\(Int((total * 1000).rounded()))ms" }
        if total < 10 {
            let tenths = (total * 10).rounded()
            return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))s" : String(format: "%.1fs", tenths / 10)
        }
        let seconds = Int(total.rounded())
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        return String(format: "%dh%02dm", seconds / 3600, (seconds % 3600) / 60)
    }

    /// A JSON value in one short piece: strings bare when they have no spaces, numbers without `.0`,
    /// objects and lists as compact JSON.
    static func value(_ value: Google_Protobuf_Value) -> String {
        switch value.kind {
        case .stringValue(let text):
            return text.isEmpty || text.contains(where: { $0 == " " || $0 == "\n" || $0 == "=" || $0 == "\"" })
                ? Output.compactJSON(value) : text
        case .numberValue(let number):
            return JSONText.number(number)
        case .boolValue(let flag): return flag ? "true" : "false"
        case .nullValue, nil: return "null"
        case .structValue, .listValue: return Output.compactJSON(value)
        }
    }

    /// `key=value key=value` for a JSON object's fields, in key order.
    static func attributes(_ attributes: Google_Protobuf_Struct) -> String {
        attributes.fields.keys.sorted().map { "\($0)=\(value(attributes.fields[$0]!))" }.joined(separator: " ")
    }

    /// `key=value key=value` for a history event's typed attributes (their proto field names, in key
    /// order; times as RFC 3339, values and failures as compact JSON).
    static func attributes(of event: Baton_V1_HistoryEvent) -> String {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        var attributesOnly = Baton_V1_HistoryEvent()
        attributesOnly.attributes = event.attributes
        guard let json = try? attributesOnly.jsonString(options: options),
              let object = try? Google_Protobuf_Struct(jsonString: json),
              case .structValue(var fields)? = object.fields.values.first?.kind
        else { return "" }
        // Enum values without their type prefix: `purpose=retry_backoff`, `timeout=heartbeat`.
        for (key, value) in fields.fields {
            guard case .stringValue(let text) = value.kind else { continue }
            for prefix in ["TIMER_PURPOSE_", "TIMEOUT_KIND_"] where text.hasPrefix(prefix) {
                fields.fields[key] = Google_Protobuf_Value(stringValue: text.dropFirst(prefix.count).lowercased())
            }
        }
        return attributes(fields)
    }

    /// `completed`, `compensation_failed`, ...
    static func status(_ status: Baton_V1_WorkflowStatus) -> String {
        switch status {
        case .unspecified: "unspecified"
        case .running: "running"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .terminated: "terminated"
        case .compensated: "compensated"
        case .compensationFailed: "compensation_failed"
        case .corrupted: "corrupted"
        case .UNRECOGNIZED(let raw): "status_\(raw)"
        }
    }

    /// `waiting for signal go until TIME (step approval): baton signal ID go --payload '{...}'` for a
    /// step that waits for a signal now, else nil.
    static func waitHint(_ step: Baton_V1_StepInfo, workflowID: String) -> String? {
        guard step.status == .running, !step.signal.isEmpty else { return nil }
        let until = step.hasWaitDeadline ? " until \(time(step.waitDeadline))" : ""
        return "waiting for signal \(step.signal)\(until) (step \(step.name)): "
            + "baton signal \(workflowID) \(step.signal) --payload '{...}'"
    }

    /// `pending`, `running`, `retrying`, ...
    static func status(_ status: Baton_V1_StepStatus) -> String {
        switch status {
        case .unspecified: "unspecified"
        case .pending: "pending"
        case .running: "running"
        case .retrying: "retrying"
        case .completed: "completed"
        case .failed: "failed"
        case .skipped: "skipped"
        case .compensated: "compensated"
        case .cancelled: "cancelled"
        case .UNRECOGNIZED(let raw): "status_\(raw)"
        }
    }

    /// `closed`, `open`, `half_open`.
    static func state(_ state: Baton_V1_CircuitState) -> String {
        switch state {
        case .unspecified: "unspecified"
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        case .UNRECOGNIZED(let raw): "state_\(raw)"
        }
    }

    /// Parses `completed`, `COMPLETED` or `WORKFLOW_STATUS_COMPLETED` (for `--status`).
    static func parseStatus(_ text: String) -> Baton_V1_WorkflowStatus? {
        var name = text.lowercased().replacingOccurrences(of: "-", with: "_")
        if name.hasPrefix("workflow_status_") { name = String(name.dropFirst("workflow_status_".count)) }
        return Baton_V1_WorkflowStatus.allCases.first { $0 != .unspecified && status($0) == name }
    }

    /// Every status name `--status` accepts.
    static var statusNames: [String] {
        Baton_V1_WorkflowStatus.allCases.filter { $0 != .unspecified }.map { status($0) }
    }

    /// A failure as `Type: message (step s)`.
    static func failure(_ failure: Baton_V1_Failure) -> String {
        var text = failure.type.isEmpty ? failure.message : "\(failure.type): \(failure.message)"
        if !failure.step.isEmpty { text += " (step \(failure.step))" }
        return text
    }
}
