import BatonCore
import BatonProto

extension TraceContext {
    /// The history's form (`baton.v1.TraceContext`).
    public var proto: Baton_V1_TraceContext {
        .with {
            $0.traceID = traceID
            $0.spanID = spanID
            $0.parentSpanID = parentSpanID ?? ""
            $0.sampled = sampled
        }
    }

    /// Reads the history's form.
    public init(proto: Baton_V1_TraceContext) {
        self.init(traceID: proto.traceID, spanID: proto.spanID,
                  parentSpanID: proto.parentSpanID.isEmpty ? nil : proto.parentSpanID, sampled: proto.sampled)
    }
}
