extension HTTP2Stream: HTTPExchange {
    /// HTTP/2 carries trailers.
    public var supportsTrailers: Bool { true }
}
