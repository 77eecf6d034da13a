import NIOCore
import NIOHTTP1

/// Answers HTTP/1.1 requests on the gRPC port with `426 Upgrade Required` and a short text body that
/// says what the port speaks, then closes. The browser gateway replaces this later.
final class HTTP1FallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let body = """
        This port speaks gRPC over HTTP/2 (prior knowledge, cleartext). \
        Use a gRPC client, e.g. grpcurl -plaintext HOST:PORT list.

        """

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Answer on the request head: the connection closes after the answer, so a body (or a
        // Content-Length that no body will ever fill) is never waited for.
        guard case .head = unwrapInboundIn(data), !answered else { return }
        answered = true
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(Self.body.utf8.count))
        headers.add(name: "connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .upgradeRequired, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: Self.body.utf8.count)
        buffer.writeString(Self.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
