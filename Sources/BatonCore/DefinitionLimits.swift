/// Limits on the size of a workflow definition, checked when it is registered.
public enum DefinitionLimits {
    /// Steps per definition: a run's decisions stay cheap and its description fits a response.
    public static let maximumSteps = 10_000
    /// YAML nodes per definition, with every alias expanded where it is used: an alias "bomb" (a few
    /// anchors referencing each other) is rejected before anything walks its billions of nodes.
    public static let maximumYAMLNodes = 1_000_000
}
