import BatonHTTP2
import NIOCore

/// Writes a non-RPC response: the head, then body chunks (`write` suspends while the client reads
/// slowly and throws once it is gone), then the end. A handler that returns ends the response.
public struct WebResponseWriter: Sendable {
    let sendHead: @Sendable (Int, [HTTP2Header]) async throws -> Void
    let sendBody: @Sendable (ByteBuffer) async throws -> Void
    let end: @Sendable () -> Void

    /// Ends the response now, from any thread (the handler's task is cancelled): how a server ends
    /// the event streams that never end by themselves when it shuts down.
    public func finish() {
        end()
    }

    /// Sends the status and header fields (once, before any body).
    public func head(status: Int, headers: [(String, String)]) async throws {
        try await sendHead(status, headers.map { HTTP2Header($0.0.lowercased(), $0.1) })
    }

    /// Sends body bytes.
    public func write(_ bytes: ByteBuffer) async throws {
        try await sendBody(bytes)
    }

    /// Sends body text (UTF-8).
    public func write(_ text: String) async throws {
        try await sendBody(ByteBuffer(string: text))
    }

    /// Sends a whole response with a known length.
    public func send(status: Int, contentType: String, body: ByteBuffer, headers: [(String, String)] = []) async throws {
        try await head(status: status, headers: [("content-type", contentType),
                                                 ("content-length", String(body.readableBytes))] + headers)
        if body.readableBytes > 0 { try await write(body) }
    }

    /// Sends a whole plain-text response (a line: errors name what was wrong).
    public func send(status: Int, text: String, headers: [(String, String)] = []) async throws {
        try await send(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: text + "\n"),
                       headers: headers)
    }
}
