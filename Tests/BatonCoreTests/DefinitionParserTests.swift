import BatonCore
import Foundation
import Testing

/// Parses `source`, expecting failure, and returns the issues.
func issues(_ source: String) -> [ValidationIssue] {
    do {
        _ = try DefinitionParser.parse(source)
        Issue.record("expected the definition to be rejected")
        return []
    } catch {
        return error.issues
    }
}

/// Expects exactly one issue naming `step`, `field` and `line:column`, whose message contains `text`.
func expectIssue(
    _ source: String, step: String?, field: String, at location: String, contains text: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let found = issues(source)
    #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
    guard let issue = found.first else { return }
    let rendered = issue.description
    #expect(issue.step == step, "\(rendered)", sourceLocation: sourceLocation)
    #expect(issue.field == field, "\(rendered)", sourceLocation: sourceLocation)
    #expect(issue.location?.description == location, "\(rendered)", sourceLocation: sourceLocation)
    #expect(rendered.contains(text), "\(rendered)", sourceLocation: sourceLocation)
    if let step { #expect(rendered.contains("step '\(step)'"), sourceLocation: sourceLocation) }
    #expect(rendered.contains("field '\(field)'"), sourceLocation: sourceLocation)
    #expect(rendered.contains("at \(location)"), sourceLocation: sourceLocation)
}

@Suite(.timeLimit(.minutes(2))) struct DefinitionParserTests {
    @Test func parsesTheMarketingCampaignExample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/marketing_campaign.yaml")
        let definition = try DefinitionParser.parse(try String(contentsOf: url, encoding: .utf8))
        #expect(definition.name == "marketing_campaign")
        #expect(definition.steps.map(\.name) == [
            "research_market", "research_competitors", "analyze_data", "create_brief", "generate_headlines", "generate_body",
            "create_images", "review_content", "create_landing_page", "approval", "deploy",
        ])
        #expect(definition.onFailure == .compensate)
        let market = try #require(definition.step("research_market"))
        #expect(market.activity == "builtin.simulate")
        #expect(market.taskQueue == "marketing")
        #expect(market.phase == "research")
        #expect(market.circuitBreaker == "notion")
        #expect(definition.circuitBreakers["notion"]?.failureThreshold == 5)
        #expect(market.compensate?.activity == "builtin.simulate")
        #expect(market.retry == RetryPolicy(initialInterval: .seconds(1), backoffCoefficient: 2, maximumInterval: .minutes(1), maximumAttempts: 3))
        #expect(market.timeouts.startToClose == .minutes(5))
        #expect(definition.step("create_brief")?.timeouts.heartbeat == .seconds(30))
        #expect(definition.step("approval")?.kind == .waitForSignal(SignalWait(name: "approve_campaign", timeout: .hours(24), onTimeout: .compensate)))
        #expect(definition.step("deploy")?.when != nil)
        let compensated = definition.steps.filter { $0.compensate != nil }.map(\.name)
        #expect(compensated == ["research_market", "create_brief", "generate_body", "create_images", "create_landing_page", "deploy"])
        #expect(Set(definition.steps.compactMap(\.phase)) == ["research", "analysis", "content", "review", "approval", "deploy"])
        #expect(definition.ancestors(of: "approval").count == 9)
        #expect(definition.queries.keys.sorted() == ["approved", "landing_page"])
    }

    @Test func parsesJSON() throws {
        let definition = try DefinitionParser.parse("""
            {"name": "j", "steps": {"a": {"activity": "builtin.echo", "input": {"v": "${input.v}"}},
             "s": {"sleep": "1h30m", "depends_on": ["a"]}}, "output": "${steps.a.output.v}"}
            """)
        #expect(definition.steps.map(\.name) == ["a", "s"])
        #expect(definition.step("s")?.kind == .sleep(.minutes(90)))
    }

    @Test func sameContentSameCanonicalTextRegardlessOfLayoutAndVersion() throws {
        let a = try DefinitionParser.parse("name: x\nversion: 3\nsteps:\n  a: { activity: builtin.echo }\n")
        let b = try DefinitionParser.parse("{\"steps\": {\"a\": {\"activity\": \"builtin.echo\"}}, \"name\": \"x\"}")
        let c = try DefinitionParser.parse("name: x\nsteps:\n  a: { activity: builtin.fail }\n")
        #expect(a.canonicalContent == b.canonicalContent)
        #expect(a.canonicalContent != c.canonicalContent)
        #expect(a.declaredVersion == 3)
    }

    @Test func retryDefaultsAreTemporals() throws {
        let definition = try DefinitionParser.parse("name: x\nsteps:\n  a: { activity: t }\n")
        let retry = try #require(definition.step("a")).retry
        #expect(retry.initialInterval == .seconds(1))
        #expect(retry.backoffCoefficient == 2)
        #expect(retry.effectiveMaximumInterval == .seconds(100))
        #expect(retry.maximumAttempts == 0)
    }

    @Test func unknownField() {
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    retries: 3\n",
            step: "a", field: "retries", at: "5:5", contains: "unknown field 'retries'")
        expectIssue("name: x\nsteps:\n  a: { activity: t }\nouptut: 1\n", step: nil, field: "ouptut", at: "4:1", contains: "unknown field")
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    retry: { maximum_attempt: 3 }\n",
            step: "a", field: "retry.maximum_attempt", at: "5:14", contains: "unknown field 'maximum_attempt'")
    }

    @Test func unknownBuiltinActivitiesAreRefusedAtRegistration() {
        expectIssue("name: x\nsteps:\n  a: { activity: builtin.nope }\n",
                    step: "a", field: "activity", at: "3:18", contains: "unknown built-in activity 'builtin.nope'")
        expectIssue("name: x\nsteps:\n  a: { activity: t, compensate: { activity: builtin.undo } }\n",
                    step: "a", field: "compensate.activity", at: "3:45", contains: "builtin.echo, builtin.fail, builtin.simulate")
    }

    @Test func everyNameFollowsOneRule() {
        // A control character anywhere in a name is refused with the character shown, never stored cut short.
        expectIssue("name: \"nul\\0tail\"\nsteps:\n  a: { activity: t }\n",
                    step: nil, field: "name", at: "1:7", contains: "control characters (found U+0)")
        expectIssue("name: x\nsteps:\n  a: { wait_for_signal: { name: \"go\\tnow\" } }\n",
                    step: "a", field: "wait_for_signal.name", at: "3:33", contains: "control characters")
        expectIssue("name: x\nsteps:\n  a: { activity: t, task_queue: \"q\\u0001\" }\n",
                    step: "a", field: "task_queue", at: "3:33", contains: "control characters")
        expectIssue("name: \(String(repeating: "n", count: 201))\nsteps:\n  a: { activity: t }\n",
                    step: nil, field: "name", at: "1:7", contains: "at most 200 characters")
    }

    @Test func unknownDependency() {
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t }\n  b:\n    activity: t\n    depends_on: [a, nope]\n",
            step: "b", field: "depends_on", at: "6:21", contains: "unknown step 'nope'")
    }

    @Test func dependencyCyclePrintsTheCycle() {
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t, depends_on: [c] }\n  b: { activity: t, depends_on: [a] }\n  c: { activity: t, depends_on: [b] }\n",
            step: "b", field: "depends_on", at: "4:34", contains: "dependency cycle: a -> b -> c -> a")
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t, depends_on: [a] }\n",
            step: "a", field: "depends_on", at: "3:34", contains: "dependency cycle: a -> a")
    }

    @Test func duplicateStep() {
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t }\n  b: { activity: t }\n  a: { activity: u }\n",
            step: "a", field: "steps", at: "5:3", contains: "duplicate step 'a' (first defined at 3:3)")
    }

    /// Found by fuzzing (fuzz/regressions/fuzz-definition): YAML breaks lines at CR and CR LF too, so
    /// its line numbers ran past a "\n"-only split of the source when an error was located.
    @Test func duplicateKeysAfterCarriageReturnLineBreaksAreLocated() {
        expectIssue(
            "name: x\rsteps:\r\n  a: { activity: t }\r  b: { activity: t }\r  a: { activity: u }\r",
            step: "a", field: "steps", at: "5:3", contains: "duplicate step 'a' (first defined at 3:3)")
        let found = issues("name: x\r\r\r\rsteps:\r  a: { activity: t }\r  a: { activity: t }\r")
        #expect(found.count == 1 && found.first?.description.contains("duplicate step 'a'") == true, "\(found)")
    }

    /// Found by fuzzing: a tagged key (`!input:` for `input:`) was skipped silently, so the definition
    /// registered without the field and its canonical text did not parse again.
    @Test func aTaggedKeyIsAnUnknownField() {
        let found = issues("name: x\nsteps:\n  a: { activity: builtin.echo,!input: { n: 1 } }\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.description.contains("a key must be a plain string") == true, "\(found)")
        #expect(found.first?.location?.description == "3:31", "\(found)")
    }

    @Test func stepWithoutKind() {
        expectIssue(
            "name: x\nsteps:\n  a:\n    input: { x: 1 }\n",
            step: "a", field: "activity", at: "3:3", contains: "step has no kind")
    }

    @Test(arguments: [
        ("sleep: 10x", "sleep", "3:15"),
        ("activity: t, start_to_close_timeout: 5", "start_to_close_timeout", "3:45"),
        ("activity: t, heartbeat_timeout: 1m1h", "heartbeat_timeout", "3:40"),
        ("activity: t, retry: { initial_interval: soon }", "retry.initial_interval", "3:48"),
    ])
    func badDuration(body: String, field: String, location: String) {
        expectIssue("name: x\nsteps:\n  a: { \(body) }\n", step: "a", field: field, at: location, contains: "bad duration")
    }

    @Test func outOfRangeRetryValues() {
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    retry: { backoff_coefficient: 0.5 }\n",
            step: "a", field: "retry.backoff_coefficient", at: "5:35", contains: "between 1 and 100")
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    retry: { maximum_attempts: -1 }\n",
            step: "a", field: "retry.maximum_attempts", at: "5:32", contains: "integer ≥ 0")
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    retry: { initial_interval: 10s, maximum_interval: 1s }\n",
            step: "a", field: "retry.maximum_interval", at: "5:55", contains: "shorter than initial_interval")
        expectIssue(
            "name: x\ndefaults:\n  retry: { maximum_attempts: 1.5 }\nsteps:\n  a: { activity: t }\n",
            step: nil, field: "defaults.retry.maximum_attempts", at: "3:30", contains: "integer")
    }

    @Test func expressionSyntaxErrors() {
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    input: { topic: \"about ${input.product\" }\n",
            step: "a", field: "input.topic", at: "5:28", contains: "unterminated '${'")
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    when: \"${input.x} ==\"\n",
            step: "a", field: "when", at: "5:25", contains: "expected a value")
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t }\noutput: { u: \"${steps.a.outptu.url}\" }\n",
            step: nil, field: "output.u", at: "4:17", contains: "unknown step field 'outptu'")
        expectIssue(
            "name: x\nsteps:\n  a:\n    activity: t\n    when: \"1 && ${input.x}\"\n",
            step: "a", field: "when", at: "5:12", contains: "needs booleans")
    }

    @Test func referencesMustBeAncestors() {
        let source = """
            name: x
            steps:
              a: { activity: t }
              b: { activity: t }
              c:
                activity: t
                depends_on: [a]
                input: { v: "${steps.b.output.v}" }
            """
        expectIssue(source, step: "c", field: "input", at: "8:12", contains: "step 'b', which is not an ancestor of 'c'")
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t, when: \"${steps.zz.output.ok} == true\" }\n",
            step: "a", field: "when", at: "3:27", contains: "unknown step 'zz'")
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t, input: \"${self.output.id}\" }\n",
            step: "a", field: "input", at: "3:28", contains: "only available inside compensate")
        expectIssue(
            "name: x\nsteps:\n  a: { activity: t }\n  b: { activity: t, depends_on: [a], when: \"${steps.a.signal.ok}\" }\n",
            step: "b", field: "when", at: "4:44", contains: "does not wait for a signal")
    }

    @Test func reportsEveryIssueAtOnce() {
        let found = issues("name: x\nsteps:\n  a: { activity: t, bogus: 1 }\n  b: { depends_on: [a] }\n  c: { sleep: forever }\n")
        #expect(found.count == 3)
        #expect(found.map(\.step) == ["a", "b", "c"])
    }

    @Test func syntaxErrorsHaveALocation() {
        let found = issues("name: x\nsteps:\n  a: { activity: t\n")
        #expect(found.count == 1)
        #expect(found.first?.location != nil)
        #expect(found.first?.message.contains("syntax error") == true)
    }
}
