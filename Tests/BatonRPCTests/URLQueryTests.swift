import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct URLQueryTests {
    @Test func splitsThePathAndDecodesParameters() {
        let query = URLQuery("/baton.v1.WorkflowService/Query?encoding=json&message=%7B%22a%22%3A+1%7D&flag")
        #expect(query.path == "/baton.v1.WorkflowService/Query")
        #expect(query["encoding"] == "json")
        #expect(query["message"] == #"{"a": 1}"#)
        #expect(query["flag"] == "")
        #expect(query["missing"] == nil)
        #expect(URLQuery("/healthz").path == "/healthz")
        #expect(URLQuery("/healthz").parameters.isEmpty)
    }
}
