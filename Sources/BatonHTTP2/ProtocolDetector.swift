import NIOCore

/// Looks at the first bytes of a connection and installs the matching protocol: the HTTP/2 client
/// preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) goes to nghttp2, anything else to HTTP/1.1.
///
/// The decision is a tiny state machine: `ProtocolDetector.decide(_:)` maps the bytes seen so far to
/// "need more", "HTTP/2" or "HTTP/1.1".
final class ProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The outcome of looking at a connection's first bytes.
    enum Decision: Equatable { case needMore, http2, http1 }

    /// The HTTP/2 connection preface every client sends first.
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Decides from the bytes received so far.
    static func decide(_ bytes: some Collection<UInt8>) -> Decision {
        for (index, byte) in bytes.prefix(preface.count).enumerated() where byte != preface[index] {
            return .http1
        }
        return bytes.count >= preface.count ? .http2 : .needMore
    }

    private var machine = ProtocolDetection()
    private let configureHTTP2: (Channel) throws -> Void
    private let configureHTTP1: (Channel) throws -> Void

    init(configureHTTP2: @escaping (Channel) throws -> Void, configureHTTP1: @escaping (Channel) throws -> Void) {
        self.configureHTTP2 = configureHTTP2
        self.configureHTTP1 = configureHTTP1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(machine.received(unwrapInboundIn(data)), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.inactive()
        context.fireChannelInactive()
    }

    private func perform(_ action: ProtocolDetection.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .forward(let bytes):
            context.fireChannelRead(wrapInboundOut(bytes))
        case .configure(let decision):
            // Adding handlers can re-enter this handler (a close fires channelInactive); the machine
            // then says what is still left to do.
            let next: ProtocolDetection.Action
            do {
                try decision == .http2 ? configureHTTP2(context.channel) : configureHTTP1(context.channel)
                next = machine.configured()
            } catch {
                next = machine.configurationFailed()
            }
            perform(next, context: context)
        case .handOff(let bytes):
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .close:
            context.close(promise: nil)
        }
    }
}

extension ProtocolDetector {
    typealias InboundOut = ByteBuffer
}
