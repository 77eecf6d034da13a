import BatonServer
import Foundation
import Logging
import Testing

/// JSONLogHandler writes one valid JSON object per line whatever the message and metadata hold.
@Suite(.timeLimit(.minutes(1))) struct JSONLogHandlerTests {
    /// Logs through a handler writing into a pipe and returns the lines written.
    private func lines(_ body: (Logger) -> Void) throws -> [[String: Any]] {
        let pipe = Pipe()
        let handler = JSONLogHandler(label: "test", level: .info,
                                     sink: JSONLogSink(descriptor: pipe.fileHandleForWriting.fileDescriptor))
        body(Logger(label: "test", factory: { _ in handler }))
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func messagesAndMetadataAreEscapedTypedAndFlattened() throws {
        let written = try lines { logger in
            logger.info("a \"quoted\"\nline\u{1b}[2J \\ ✓", metadata: [
                "workflow_id": "wf\u{0}1", "attempt": .stringConvertible(2), "duration_ms": .stringConvertible(12.5),
                "retry": .stringConvertible(true), "nested": ["k": ["x", "y"]], "message": "cannot replace the message",
            ])
            logger.debug("below the level")
            logger.warning("second")
        }
        #expect(written.count == 2)
        let first = written[0]
        #expect(first["message"] as? String == "a \"quoted\"\nline\u{1b}[2J \\ ✓")
        #expect(first["logger"] as? String == "test" && first["level"] as? String == "info")
        #expect(first["workflow_id"] as? String == "wf\u{0}1")
        #expect(first["attempt"] as? Int == 2)
        #expect(first["duration_ms"] as? Double == 12.5)
        #expect(first["retry"] as? Bool == true)
        #expect((first["nested"] as? [String: Any])?["k"] as? [String] == ["x", "y"])
        let stamp = try #require(first["timestamp"] as? String)
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(stamp)")
        #expect(written[1]["level"] as? String == "warning")
    }
}
