import ArgumentParser

/// `-o, --output`: how a client subcommand prints its answer (as in the Temporal CLI).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Human-readable text and tables (the default).
    case table
    /// Each response as indented JSON (protobuf's JSON mapping, keys sorted).
    case json
    /// Each response as one line of compact JSON (the same as `--json`).
    case jsonl
}
