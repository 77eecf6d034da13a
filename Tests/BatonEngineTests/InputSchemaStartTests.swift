import BatonCore
import BatonEngine
import Testing

private let checkedDefinition = """
    name: checked
    input_schema:
      type: object
      required: [product]
      properties:
        product: { type: string, minLength: 1 }
        budget: { type: number, minimum: 0, default: 100 }
        channels: { type: array, items: { type: string, enum: [email, social, ads] }, minItems: 1 }
      additionalProperties: false
    steps:
      gate: { wait_for_signal: { name: go } }
    """

@Suite(.timeLimit(.minutes(2))) struct InputSchemaStartTests {
    /// Starts `input` under `id`, expecting INVALID_ARGUMENT, and returns the message.
    private func refusal(
        _ runtime: WorkflowRuntime, id: String?, input: JSONValue, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async -> String? {
        do {
            let started = try await runtime.startWorkflow("checked", workflowID: id, input: input)
            Issue.record("a bad input started \(started.id)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code == .invalidArgument, sourceLocation: sourceLocation)
            return error.message
        }
    }

    @Test func aBadInputIsRefusedBeforeAnyRunExists() async throws {
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        _ = try await runtime.register(source: checkedDefinition)
        let prefix = "input does not match the input_schema of 'checked' v1: "
        #expect(await refusal(runtime, id: "bad-1", input: nil) == prefix + "input: expected an object, got null")
        #expect(await refusal(runtime, id: "bad-1", input: ["budget": -5])
            == prefix + "input.product: required property is missing; input.budget: -5 is less than the minimum 0")
        #expect(await refusal(runtime, id: "bad-1", input: ["product": "W", "channels": ["email", "fax"]])
            == prefix + "input.channels[1]: \"fax\" is not one of \"email\", \"social\", \"ads\"")
        #expect(await refusal(runtime, id: nil, input: ["product": "W", "extra": true])
            == prefix + "input.extra: property is not allowed (additionalProperties is false)")
        do {
            _ = try await runtime.describe("bad-1")
            Issue.record("a refused start created a run")
        } catch {
            #expect(error.code == .notFound)
        }
        let runs = try await store.listWorkflows(WorkflowListFilter(), after: nil, limit: 10)
        #expect(runs.isEmpty)
        await runtime.shutdown()
    }

    @Test func aGoodInputStartsAsGivenAndEveryStartIsChecked() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: checkedDefinition)
        let input: JSONValue = ["product": "Widget", "channels": ["ads"]]
        let started = try await runtime.startWorkflow("checked", workflowID: "good-1", input: input)
        #expect(started.started)
        // The default is not applied: the run's input is exactly what was given.
        #expect(try await runtime.describe("good-1").state.input == input)
        // Returning the existing run is also a start, and checked the same way.
        #expect(await refusal(runtime, id: "good-1", input: nil)?.hasSuffix("input: expected an object, got null") == true)
        #expect(try await runtime.startWorkflow("checked", workflowID: "good-1", input: input).started == false)
        try await runtime.terminate("good-1")
        await runtime.shutdown()
    }

    @Test func definitionsWithoutASchemaAcceptAnyInputAsBefore() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: "name: open\nsteps:\n  gate: { wait_for_signal: { name: go } }\n")
        let id = try await runtime.startWorkflow("open").id
        #expect(try await runtime.describe(id).state.input == .null)
        #expect(try await runtime.startWorkflow("open", input: [1, "x"]).started)
        // A later version with a schema checks its own runs, and pinning the old version still works.
        _ = try await runtime.register(
            source: "name: open\ninput_schema: { type: array }\nsteps:\n  gate: { wait_for_signal: { name: go } }\n")
        await #expect(throws: BatonError.self) { try await runtime.startWorkflow("open", input: ["a": 1]) }
        #expect(try await runtime.startWorkflow("open", version: 1, input: ["a": 1]).started)
        #expect(try await runtime.startWorkflow("open", input: [1]).definition == DefinitionRef(name: "open", version: 2))
        await runtime.shutdown()
    }
}
