import NIOCore
import NIOEmbedded
import NIOHTTP1

/// libFuzzer entry for what `chatcast serve --http-port` does with a client's bytes: the
/// server's own pipeline (WebServer.configure: NIO's HTTP/1.1 server pipeline with the /irc
/// WebSocket upgrade, then WebRequestHandler and WebRoutes; Sources/ChatCastHTTP compiled
/// into this module) on an EmbeddedChannel, with a stand-in for the video and chat servers.
/// The first byte says how: bits 0-4 the chunk size the bytes arrive in, bit 5 whether WHEP
/// answers come later (as webrtcbin's do, while more bytes arrive), bit 6 whether the client
/// hangs up before they come.
///
/// Beyond "no crash": what the server writes reads as HTTP/1.x responses, well formed, one
/// per request in order (NIO's 400 for bytes that are not HTTP, then a close, excepted), each
/// with the length it says; a request that is not keep-alive is answered `Connection: close`
/// and the connection closed; a connection left open has answered every request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let chunk = 1 + Int(data[0] & 0x1F) * 29
    let later = data[0] & 0x20 != 0
    let hangUp = data[0] & 0x40 != 0
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    let channel = EmbeddedChannel()
    let backend = Backend(loop: channel.embeddedEventLoop, later: later)
    let routes = WebRoutes(files: files, backend: backend)
    let spy = RequestSpy()
    let socket = Socket()
    do {
        let pipeline = channel.pipeline.syncOperations
        try WebServer.configure(pipeline, channel: channel, routes: routes, idleSeconds: 60)
        try pipeline.addHandler(spy, position: .before(try pipeline.handler(type: WebRequestHandler.self)))
        try pipeline.addHandler(socket, position: .first)
        // Active, as an accepted connection is once its handlers are in.
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 50000)).wait()
    } catch { fatalError("cannot build the pipeline: \(error)") }

    var at = 0
    while at < stream.count && channel.isActive {
        let end = min(at + chunk, stream.count)
        do { try channel.writeInbound(channel.allocator.buffer(bytes: stream[at..<end])) } catch {
            check(!channel.isActive, "\(error) reached the end of the pipeline and the connection stays open")
        }
        channel.embeddedEventLoop.run()
        at = end
    }
    if hangUp { _ = try? channel.close().wait() }
    channel.embeddedEventLoop.run()
    let open = channel.isActive && !hangUp

    var written: [UInt8] = []
    while let part = try? channel.readOutbound(as: ByteBuffer.self) { written += part.readableBytesView }
    written.removeLast(written.count - socket.sent)
    let responses: [Response]
    do { responses = try Response.read(written, requests: spy.requests) } catch {
        fatalError("\(error) in what the server wrote: \(describe(written)) (input \(describe(stream)))")
    }
    let answered = responses.prefix { $0.status != 101 }
    let requests = spy.requests.map { "\($0.method) \($0.uri)" }
    // Beyond the requests' answers only NIO's 400 for bytes that are not HTTP (twice when the
    // bad bytes came while a WHEP answer was pending: NIOHTTP1 2.101 delivers the buffered
    // parser error twice), each saying close, and the connection closed.
    let unasked = answered.dropFirst(spy.requests.count)
    check(unasked.allSatisfy { $0.status == 400 && $0.closes } && (unasked.isEmpty || !open),
          "answers to \(requests): \(describe(written)), connection open \(open)")
    if open {
        check(answered.count >= spy.requests.count, "\(requests) answered \(describe(written)) and the connection waits")
    }
    for (request, response) in zip(spy.requests, answered) {
        check(response.version == request.version || response.status == 400,
              "HTTP/\(request.version.major).\(request.version.minor) \(request.method) answered HTTP/\(response.version.major).\(response.version.minor)")
        if !request.keepAlive {
            check(response.closes, "\(request.method) \(request.uri) is not keep-alive, its answer does not say close")
            check(!open, "the connection stays open after a request that is not keep-alive")
        }
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return 0
}

let files = StaticFiles(files: [
    "rooms.html": .init(bytes: ByteBuffer(string: "<h1>rooms</h1>"), contentType: "text/html; charset=utf-8"),
    "viewer.html": .init(bytes: ByteBuffer(string: "<h1>viewer</h1>"), contentType: "text/html; charset=utf-8"),
    "viewer.js": .init(bytes: ByteBuffer(string: "// js"), contentType: "text/javascript; charset=utf-8"),
])

/// The video and chat servers: one live room, WHEP offers answered (at once or on a later
/// turn of the loop) or refused by what they hold, sessions that end once.
final class Backend: WebBackend, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    let later: Bool
    init(loop: EmbeddedEventLoop, later: Bool) { (self.loop, self.later) = (loop, later) }

    func liveRooms() -> [LiveRoom] {
        [LiveRoom(name: "lobby", rtspViewers: 2, webrtcViewers: 1, since: 1_764_560_000, rtspURL: "rtsp://h:8554/lobby")]
    }

    func offer(room: String, sdp: String, completion: @escaping @Sendable (WHEPAnswer) -> Void) {
        let answer: WHEPAnswer = sdp.hasPrefix("v=0")
            ? .answer(id: "s\(sdp.utf8.count)", sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n")
            : .refused(status: [400, 404, 409, 503][sdp.utf8.count % 4], reason: "refused \(room)")
        if later { loop.execute { completion(answer) } } else { completion(answer) }
    }

    func endSession(room: String, id: String) -> Bool { id.hasPrefix("s") }
    func metrics() -> String { "# TYPE chatcast_rooms_live gauge\nchatcast_rooms_live 1\n" }
    func addChatHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {}
}

/// What reached WebRequestHandler, request by request; it leaves when the connection
/// becomes a WebSocket (the bytes after that are frames).
final class RequestSpy: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    struct Request {
        var method: HTTPMethod
        var uri: String
        var version: HTTPVersion
        var keepAlive: Bool
    }

    private(set) var requests: [Request] = []
    private var head: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request): head = request
        case .body: break
        case .end:
            if let head {
                requests.append(Request(method: head.method, uri: head.uri, version: head.version, keepAlive: head.isKeepAlive))
            }
            head = nil
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .upgradeComplete = event as? HTTPServerUpgradeEvents {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// How much of what reaches EmbeddedChannel a socket would have sent: what was written while
/// the connection was open (EmbeddedChannel also keeps what handlers write as they are
/// removed after it closed).
final class Socket: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var sent = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if context.channel.isActive { sent += unwrapOutboundIn(data).readableBytes }
        context.write(data, promise: promise)
    }
}

/// Bytes as text for a failure message.
func describe(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(600), as: UTF8.self).debugDescription
    return bytes.count > 600 ? "\(text)… (\(bytes.count) bytes)" : text
}
