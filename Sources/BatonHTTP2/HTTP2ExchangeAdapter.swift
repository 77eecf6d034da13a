/// Carries an ``HTTP2Stream``'s events to an ``HTTPExchangeDelegate``, so one delegate serves both
/// HTTP versions.
public final class HTTP2ExchangeAdapter: HTTP2StreamDelegate {
    /// Where the events go.
    public let delegate: any HTTPExchangeDelegate

    /// An adapter forwarding to `delegate`.
    public init(_ delegate: any HTTPExchangeDelegate) {
        self.delegate = delegate
    }

    public func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        delegate.exchange(stream, didReceiveHeaders: headers, endStream: endStream)
    }

    public func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) {
        delegate.exchange(stream, didReceiveData: data)
    }

    public func streamDidReceiveEnd(_ stream: HTTP2Stream) {
        delegate.exchangeDidReceiveEnd(stream)
    }

    public func streamDidDrainOutbound(_ stream: HTTP2Stream) {
        delegate.exchangeDidDrainOutbound(stream)
    }

    public func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {
        delegate.exchange(stream, didCloseWithErrorCode: errorCode)
    }
}
