import BatonCore
import BatonEngine

/// The limits `baton server --limit NAME=VALUE` sets, by name: what one run may hold (payloads,
/// history, pending signals, live streams, ids, definitions) and what one client may use
/// (connections, streams per connection, requests per second per token). Errors for a limit reached
/// name it, as `(payload_bytes)`, with its value.
///
/// ```swift
/// var configuration = ServerConfiguration()
/// try ServerLimit.apply("history_events=10000", to: &configuration)
/// ```
public enum ServerLimit: String, CaseIterable, Sendable {
    case payloadBytes = "payload_bytes"
    case historyEvents = "history_events"
    case pendingSignals = "pending_signals"
    case subscribersPerRun = "subscribers_per_run"
    case workflowIDBytes = "workflow_id_bytes"
    case definitionBytes = "definition_bytes"
    case definitionSteps = "definition_steps"
    case connections
    case streamsPerConnection = "streams_per_connection"
    case requestsPerSecond = "requests_per_second"

    /// Sets the limit `assignment` names (`NAME=VALUE`) in `configuration`.
    public static func apply(_ assignment: String, to configuration: inout ServerConfiguration) throws(ServerError) {
        let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ServerError(.invalidConfiguration, "--limit: '\(NameRule.printable(assignment))' is not NAME=VALUE "
                + "(e.g. history_events=10000)")
        }
        guard let limit = ServerLimit(rawValue: String(parts[0])) else {
            throw ServerError(.invalidConfiguration, "--limit: unknown limit '\(NameRule.printable(String(parts[0])))'; "
                + "known limits: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let value = try limit.parse(String(parts[1]))
        limit.set(value, in: &configuration)
    }

    /// The value `configuration` has for this limit.
    public func value(in configuration: ServerConfiguration) -> Int {
        switch self {
        case .payloadBytes: configuration.limits.payloadBytes
        case .historyEvents: configuration.limits.historyEvents
        case .pendingSignals: configuration.limits.pendingSignals
        case .subscribersPerRun: configuration.limits.subscribersPerRun
        case .workflowIDBytes: configuration.limits.workflowIDBytes
        case .definitionBytes: configuration.limits.definitionBytes
        case .definitionSteps: configuration.limits.definitionSteps
        case .connections: configuration.maxConnections
        case .streamsPerConnection: configuration.maxCallsInProgressPerConnection
        case .requestsPerSecond: configuration.requestsPerSecond
        }
    }

    private func set(_ value: Int, in configuration: inout ServerConfiguration) {
        switch self {
        case .payloadBytes: configuration.limits.payloadBytes = value
        case .historyEvents: configuration.limits.historyEvents = value
        case .pendingSignals: configuration.limits.pendingSignals = value
        case .subscribersPerRun: configuration.limits.subscribersPerRun = value
        case .workflowIDBytes: configuration.limits.workflowIDBytes = value
        case .definitionBytes: configuration.limits.definitionBytes = value
        case .definitionSteps: configuration.limits.definitionSteps = value
        case .connections: configuration.maxConnections = value
        case .streamsPerConnection: configuration.maxCallsInProgressPerConnection = value
        case .requestsPerSecond: configuration.requestsPerSecond = value
        }
    }

    /// The values the limit accepts.
    var range: ClosedRange<Int> {
        switch self {
        case .payloadBytes, .definitionBytes: 1...(64 * 1024 * 1024)
        case .historyEvents: 10...10_000_000
        case .pendingSignals, .subscribersPerRun: 1...1_000_000
        case .workflowIDBytes: 1...4_096
        case .definitionSteps: 1...DefinitionLimits.maximumSteps
        case .connections: 1...1_000_000
        case .streamsPerConnection: 1...65_535
        case .requestsPerSecond: 0...1_000_000
        }
    }

    /// `text` as a value of this limit: a whole number (bytes limits also take a KiB or MiB suffix).
    private func parse(_ text: String) throws(ServerError) -> Int {
        var digits = Substring(text)
        var unit = 1
        if rawValue.hasSuffix("_bytes") {
            if digits.hasSuffix("KiB") {
                digits = digits.dropLast(3)
                unit = 1024
            } else if digits.hasSuffix("MiB") {
                digits = digits.dropLast(3)
                unit = 1024 * 1024
            }
        }
        let example = rawValue.hasSuffix("_bytes") ? " (bytes; a KiB or MiB suffix is allowed)" : ""
        guard digits.count <= 12, let number = Int(digits), number >= 0 else {
            throw ServerError(.invalidConfiguration, "--limit \(rawValue): '\(NameRule.printable(text))' is not a whole "
                + "number\(example)")
        }
        let value = number * unit
        guard range.contains(value) else {
            throw ServerError(.invalidConfiguration, "--limit \(rawValue): \(value) is outside \(range.lowerBound)..."
                + "\(range.upperBound)\(self == .requestsPerSecond ? " (0: unlimited)" : "")")
        }
        return value
    }
}
