/// How long one attempt of an activity ran, from start to completion.
public struct ActivityDurationSample: Hashable, Sendable {
    /// The activity name.
    public var activity: String
    /// The duration in milliseconds.
    public var milliseconds: Int64

    /// Creates a sample.
    public init(activity: String, milliseconds: Int64) {
        self.activity = activity
        self.milliseconds = milliseconds
    }
}
