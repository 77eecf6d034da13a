/// The activities the server runs itself (`builtin.*`); any other `builtin.` name is an error at
/// registration, not a task that waits forever on a queue nobody polls.
public enum BuiltinActivities {
    /// Every built-in activity.
    public static let names: Set<String> = ["builtin.echo", "builtin.fail", "builtin.simulate"]
    /// The reserved prefix.
    public static let prefix = "builtin."
}
