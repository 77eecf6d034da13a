import NIOCore

/// The connection-setup state machine behind ``ProtocolDetector``: events in (bytes, configuration
/// finished or failed, channel inactive), actions out. No force-unwraps: every event is valid in
/// every state, so a close in the middle of configuring the pipeline (which re-enters the handler)
/// cannot find the machine in a state it did not expect.
struct ProtocolDetection {
    /// Where the connection's setup is.
    enum State {
        /// Collecting the first bytes; nil until something arrived.
        case detecting(ByteBuffer?)
        /// The protocol's handlers are being added; holds the bytes to hand them.
        case configuring(ByteBuffer)
        /// The protocol's handlers own the connection; bytes pass through.
        case handedOff
        /// The channel went inactive or setup failed; everything is dropped.
        case closed
    }

    /// What the handler must do after an event.
    enum Action: Equatable {
        /// Nothing yet.
        case none
        /// Add the handlers for `protocol`, then report `configured()` or `configurationFailed()`.
        case configure(ProtocolDetector.Decision)
        /// Pass these bytes on to the next handler.
        case forward(ByteBuffer)
        /// Hand the buffered bytes to the installed handlers and remove the detector.
        case handOff(ByteBuffer)
        /// Close the channel.
        case close
    }

    private(set) var state: State = .detecting(nil)

    /// Bytes arrived from the socket.
    mutating func received(_ incoming: ByteBuffer) -> Action {
        switch state {
        case .detecting(let buffered):
            var bytes = incoming
            if var buffered {
                buffered.writeImmutableBuffer(incoming)
                bytes = buffered
            }
            let decision = bytes.withUnsafeReadableBytes { ProtocolDetector.decide($0) }
            if decision == .needMore {
                state = .detecting(bytes)
                return .none
            }
            state = .configuring(bytes)
            return .configure(decision)
        case .configuring(var buffered):
            // Bytes read while the pipeline is being configured join the ones waiting for it.
            buffered.writeImmutableBuffer(incoming)
            state = .configuring(buffered)
            return .none
        case .handedOff:
            return .forward(incoming)
        case .closed:
            return .none
        }
    }

    /// The protocol's handlers were added.
    mutating func configured() -> Action {
        guard case .configuring(let buffered) = state else { return .none }
        state = .handedOff
        return .handOff(buffered)
    }

    /// Adding the protocol's handlers failed.
    mutating func configurationFailed() -> Action {
        if case .closed = state { return .none }
        state = .closed
        return .close
    }

    /// The channel went inactive (possibly while configuring).
    mutating func inactive() {
        state = .closed
    }
}
