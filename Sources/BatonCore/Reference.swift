/// A path into workflow state that an expression reads.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    /// Where the path starts.
    public enum Root: Hashable, Sendable {
        /// The workflow input.
        case input
        /// A step's output.
        case stepOutput(String)
        /// The payload of the signal a `wait_for_signal` step received.
        case stepSignal(String)
        /// The output of the step being compensated (only inside `compensate`).
        case selfOutput
        /// The input of the step being compensated (only inside `compensate`).
        case selfInput
    }

    /// Where the path starts.
    public var root: Root
    /// Object keys or array indexes below the root.
    public var path: [String]

    /// Creates a reference.
    public init(root: Root, path: [String]) {
        self.root = root
        self.path = path
    }

    /// Whether this reads `self.output` or `self.input` (only allowed inside `compensate`).
    public var isSelf: Bool { root == .selfOutput || root == .selfInput }

    /// The step this reference reads from, if any.
    public var step: String? {
        switch root {
        case .stepOutput(let name), .stepSignal(let name): return name
        case .input, .selfOutput, .selfInput: return nil
        }
    }

    /// The dotted path, e.g. `steps.a.output.url`.
    public var description: String {
        let head: String
        switch root {
        case .input: head = "input"
        case .stepOutput(let name): head = "steps.\(name).output"
        case .stepSignal(let name): head = "steps.\(name).signal"
        case .selfOutput: head = "self.output"
        case .selfInput: head = "self.input"
        }
        return ([head] + path).joined(separator: ".")
    }
}
