import ArgumentParser
import BatonProto
import Foundation
import SwiftProtobuf

/// The filters `baton list` and `baton count` share: status, definition and start time.
struct WorkflowFilter: ParsableArguments {
    @Option(name: [.customShort("s"), .long], help: ArgumentHelp(
        "Only workflows in this status: \(Formatting.statusNames.joined(separator: ", ")).", valueName: "status"))
    var status: String?

    @Option(name: [.customShort("d"), .long], help: ArgumentHelp("Only workflows of this definition.", valueName: "name"))
    var definition: String?

    @Option(name: .long, help: ArgumentHelp(
        "Only workflows started at or after TIME: RFC 3339 (2026-12-07T10:00:00Z) or an age (90s, 15m, 2h, 7d).",
        valueName: "time"))
    var startedAfter: String?

    @Option(name: .long, help: ArgumentHelp("Only workflows started before TIME (as --started-after).", valueName: "time"))
    var startedBefore: String?

    func validate() throws {
        if let status, Formatting.parseStatus(status) == nil {
            throw ValidationError("--status: unknown status '\(status)'; use one of \(Formatting.statusNames.joined(separator: ", "))")
        }
        if let startedAfter { _ = try Self.time(startedAfter, option: "--started-after") }
        if let startedBefore { _ = try Self.time(startedBefore, option: "--started-before") }
    }

    /// A ListWorkflows request with these filters (no paging yet).
    func request(now: Date = Date()) throws -> Baton_V1_ListWorkflowsRequest {
        var request = Baton_V1_ListWorkflowsRequest()
        request.status = status.flatMap(Formatting.parseStatus) ?? .unspecified
        request.definition = definition ?? ""
        if let startedAfter { request.startedAfter = Google_Protobuf_Timestamp(date: try Self.time(startedAfter, option: "--started-after", now: now)) }
        if let startedBefore { request.startedBefore = Google_Protobuf_Timestamp(date: try Self.time(startedBefore, option: "--started-before", now: now)) }
        return request
    }

    /// Parses an RFC 3339 time or an age before `now` (`90s`, `15m`, `2h`, `7d`).
    static func time(_ text: String, option: String, now: Date = Date()) throws -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let seconds = units[unit], let count = Double(text.dropLast()), count >= 0, count.isFinite {
            return now.addingTimeInterval(-count * seconds)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        throw ValidationError("\(option): expected an RFC 3339 time (2026-12-07T10:00:00Z) or an age (90s, 15m, 2h, 7d), got '\(text)'")
    }
}
