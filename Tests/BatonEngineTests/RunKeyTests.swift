import BatonEngine
import Testing

/// Storage keys: a live run's key is its workflow id; an archived run's is `ID/RUN_ID`.
@Suite(.timeLimit(.minutes(1))) struct RunKeyTests {
    @Test(arguments: ["order-7", "é✓-ünïcode", "", "a b"])
    func aLiveKeyIsTheWorkflowID(id: String) {
        let (workflowID, archived) = RunKey.split(id)
        #expect(workflowID == id && archived == nil)
    }

    @Test(arguments: ["order-7", "é✓-ünïcode", "x"])
    func anArchivedKeySplitsAtItsSlash(id: String) {
        let key = RunKey.archived(id, runID: "3f2b8c1e-0d4a-4b7e-9a51-6c2d8e9f0a1b")
        let (workflowID, archived) = RunKey.split(key)
        #expect(workflowID == id && archived == "3f2b8c1e-0d4a-4b7e-9a51-6c2d8e9f0a1b")
        #expect(RunKey.runID(key: key, recorded: nil, startedAt: nil) == archived)
    }
}
