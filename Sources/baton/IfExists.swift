import ArgumentParser
import BatonProto

/// `--if-exists`: StartWorkflow's id reuse policy.
enum IfExists: String, ExpressibleByArgument, CaseIterable {
    case `return`, reject, restartClosed = "restart-closed"

    /// The policy sent to the server.
    var policy: Baton_V1_WorkflowIdReusePolicy {
        switch self {
        case .return: .returnExisting
        case .reject: .reject
        case .restartClosed: .allowAfterClose
        }
    }
}
