/// Receives the events of one ``HTTPExchange``. Every method is called on the connection's event loop.
public protocol HTTPExchangeDelegate: AnyObject {
    /// The request head arrived (`endStream`: the request has no body).
    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool)
    /// A chunk of the body arrived; the bytes are valid only during the call. Call `consume` once taken.
    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer)
    /// The request body ended.
    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange)
    /// Queued outbound bytes fell below the low watermark after `notifyWhenDrained`.
    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange)
    /// The exchange is over: 0 after a complete response, else the peer reset it or the connection closed.
    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32)
}
