/// Limits on the size of a workflow definition, checked when it is registered.
public enum DefinitionLimits {
    /// Steps per definition: a run's decisions stay cheap and its description fits a response.
    public static let maximumSteps = 10_000
}
