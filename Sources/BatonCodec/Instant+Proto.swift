import BatonCore
import BatonEngine
import BatonProto
import SwiftProtobuf

extension Instant {
    /// This instant as a `google.protobuf.Timestamp`.
    public var proto: Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: millisecondsSinceEpoch / 1000,
                                  nanos: Int32(millisecondsSinceEpoch % 1000) * 1_000_000)
    }

    /// The instant of a `google.protobuf.Timestamp` (millisecond precision).
    public init(proto timestamp: Google_Protobuf_Timestamp) {
        // A client's timestamp may be anything: clamp instead of overflowing.
        let (millis, overflow) = timestamp.seconds.multipliedReportingOverflow(by: 1000)
        let base = overflow ? (timestamp.seconds < 0 ? Int64.min / 2 : Int64.max / 2) : millis
        self.init(millisecondsSinceEpoch: base.addingReportingOverflow(Int64(timestamp.nanos) / 1_000_000).partialValue)
    }
}

extension WorkflowStatus {
    /// The API's status enum.
    public var proto: Baton_V1_WorkflowStatus {
        switch self {
        case .running: .running
        case .completed: .completed
        case .failed: .failed
        case .cancelled: .cancelled
        case .terminated: .terminated
        case .compensated: .compensated
        case .compensationFailed: .compensationFailed
        case .corrupted: .corrupted
        }
    }

    /// The engine status of an API status (nil for UNSPECIFIED or unknown values).
    public init?(proto: Baton_V1_WorkflowStatus) {
        switch proto {
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .terminated: self = .terminated
        case .compensated: self = .compensated
        case .compensationFailed: self = .compensationFailed
        case .corrupted: self = .corrupted
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}
