@testable import BatonServer
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

    @Test func timestampsAreRFC3339InUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_796_678_401.25)) == "2026-12-07T21:20:01.250Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 951_868_799.5)) == "2000-02-29T23:59:59.500Z")
    }

    /// Lines logged inside `holdingWrites` (from any thread) are written when it returns, in order,
    /// whole; a line logged outside goes out at once.
    @Test func heldLinesAreWrittenTogetherInOrder() throws {
        let pipe = Pipe()
        let sink = JSONLogSink(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        let handler = JSONLogHandler(label: "test", level: .info, sink: sink)
        let logger = Logger(label: "test", factory: { _ in handler })
        let reader = pipe.fileHandleForReading
        logger.info("before")
        #expect(String(decoding: reader.availableData, as: UTF8.self).contains("\"before\""))
        sink.holdingWrites {
            for index in 0..<3 { logger.info("held \(index)") }
            let logged = DispatchSemaphore(value: 0)
            Thread {
                logger.info("from another thread")
                logged.signal()
            }.start()
            logged.wait()
            // Nothing reached the pipe yet: a non-blocking read finds it empty.
            let flags = fcntl(reader.fileDescriptor, F_GETFL)
            _ = fcntl(reader.fileDescriptor, F_SETFL, flags | O_NONBLOCK)
            var byte: UInt8 = 0
            #expect(read(reader.fileDescriptor, &byte, 1) == -1 && errno == EAGAIN)
            _ = fcntl(reader.fileDescriptor, F_SETFL, flags)
        }
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        let messages = try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["message"] as? String
        }
        #expect(messages == ["held 0", "held 1", "held 2", "from another thread"])
    }
}
