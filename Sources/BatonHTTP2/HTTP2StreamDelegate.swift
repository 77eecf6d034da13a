/// Receives the events of one HTTP/2 stream. Every method is called on the connection's event loop.
///
/// The gRPC layer implements this for each request (server) or call (client).
public protocol HTTP2StreamDelegate: AnyObject {
    /// A HEADERS block arrived: the request or response headers, or trailers.
    func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool)
    /// A chunk of DATA arrived; the bytes are valid only during the call (copy what you keep).
    /// The delegate calls `stream.consume(_:)` once it has taken the bytes, to reopen the window.
    func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer)
    /// The peer half-closed the stream with an END_STREAM flag on a DATA frame.
    func streamDidReceiveEnd(_ stream: HTTP2Stream)
    /// Queued outbound bytes fell below the low watermark after having passed the high one.
    func streamDidDrainOutbound(_ stream: HTTP2Stream)
    /// The stream closed. `errorCode` is 0 (NO_ERROR) for a normal close, else the RST_STREAM or
    /// GOAWAY error code.
    func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32)
}
