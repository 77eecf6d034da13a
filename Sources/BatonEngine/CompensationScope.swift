import BatonCore

/// Resolves references inside a step's `compensate` input: `${self.output…}` and `${self.input…}`
/// read the compensated step; everything else reads the workflow state.
public struct CompensationScope: ReferenceResolver {
    /// The workflow state.
    public let state: WorkflowState
    /// The step being compensated.
    public let step: String

    /// Creates a scope for compensating `step`.
    public init(state: WorkflowState, step: String) {
        self.state = state
        self.step = step
    }

    /// Resolves `reference`.
    public func resolve(_ reference: Reference) -> JSONValue {
        switch reference.root {
        case .selfOutput: return state.step(step).output.lookup(reference.path)
        case .selfInput: return state.step(step).input.lookup(reference.path)
        default: return state.resolve(reference)
        }
    }
}
