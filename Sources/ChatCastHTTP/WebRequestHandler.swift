import NIOCore
import NIOHTTP1

/// One HTTP connection's requests: a request's head and body (at most
/// `WebRoutes.maxBodyBytes`; more is read and dropped, then answered 413) go to the routes,
/// and their answer is written whole. Requests on one connection are answered in order
/// (NIO's pipelining handler holds the next until this one is written).
final class WebRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: WebRoutes
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(routes: WebRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request):
            head = request
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
        case var .body(chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > WebRoutes.maxBodyBytes {
                tooLarge = true
                body = nil
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let request = head else { return }
            head = nil
            let keepAlive = request.isKeepAlive
            let version = request.version
            let isHead = request.method == .HEAD
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            routes.respond(to: request, body: tooLarge ? nil : body, on: context.eventLoop).whenComplete { result in
                let response = (try? result.get()) ?? .text(.internalServerError, "internal error")
                Self.write(response, to: loopBound.value, version: version, keepAlive: keepAlive, omitBody: isHead)
            }
            body = nil
        }
    }

    private static func write(_ response: WebResponse, to context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, omitBody: Bool) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if !omitBody && response.body.readableBytes > 0 {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: done)
        if !keepAlive {
            done.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // An idle connection (no request for a while) is closed.
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
