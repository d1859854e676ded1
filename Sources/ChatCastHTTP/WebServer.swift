import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Locking

/// The HTTP side of `chatcast serve`: pages, WHEP, metrics, and IRC over WebSocket at
/// `/irc`, on SwiftNIO's HTTP/1.1 and WebSocket support. It runs on the chat server's event
/// loop group, so a browser's chat connection lives on the same loop as every other chat
/// client (the chat core is confined to it).
public final class WebServer: Sendable {
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; `port` tells which after `start`.
        public var port = 8080
        /// Connections at once (pages, WHEP, metrics and WebSocket chat together).
        public var maxConnections = 1000
        /// A connection without a request for this long is closed (WebSocket chat excepted:
        /// the chat server has its own ping timeout).
        public var idleSeconds: Int64 = 60
        /// What a WebSocket chat client may have queued unsent before the server drops it.
        public var sendQueueBytes = 256 * 1024
        public var tlsCertificate: String?
        public var tlsKey: String?
        public init() {}
    }

    public static let ircPath = "/irc"
    public static let textSubprotocol = "text.ircv3.net"
    public static let binarySubprotocol = "binary.ircv3.net"

    public let settings: Settings
    private let routes: WebRoutes
    private let group: EventLoopGroup
    private let listener = Mutex<Channel?>(nil)
    private let connections = ConnectionCount()

    public init(settings: Settings, routes: WebRoutes, group: EventLoopGroup) {
        self.settings = settings
        self.routes = routes
        self.group = group
    }

    public var port: Int { listener.withLock { $0 }?.localAddress?.port ?? 0 }
    public var scheme: String { settings.tlsCertificate == nil ? "http" : "https" }

    public func start() throws {
        let routes = self.routes, settings = self.settings, connections = self.connections
        let sslContext = try settings.tlsCertificate.map { certificate -> NIOSSLContext in
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: settings.tlsKey ?? certificate, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: configuration)
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: settings.sendQueueBytes / 2, high: settings.sendQueueBytes))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.admit(limit: settings.maxConnections) else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in connections.release() }
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext { try pipeline.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try Self.configure(pipeline, channel: channel, routes: routes, idleSeconds: settings.idleSeconds)
                }
            }
        let bound = try bootstrap.bind(host: settings.host, port: settings.port).wait()
        listener.withLock { $0 = bound }
    }

    public func stop() {
        try? listener.withLock { l -> Channel? in
            defer { l = nil }
            return l
        }?.close().wait()
    }

    /// HTTP with the `/irc` upgrade; after an upgrade the request handlers leave and the
    /// WebSocket's frames become IRC lines for the chat server.
    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, channel: Channel, routes: WebRoutes, idleSeconds: Int64) throws {
        let idle = IdleStateHandler(allTimeout: .seconds(idleSeconds))
        let requests = WebRequestHandler(routes: routes)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 14,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(Self.upgradeHeaders(for: head))
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let binary = Self.chosenSubprotocol(head) == Self.binarySubprotocol
                    try sync.addHandler(WebSocketIRCFrames(binary: binary))
                    try routes.backend.addChatHandlers(to: sync)
                }
            })
        try pipeline.addHandler(idle)
        let replaced = NIOLoopBound((requests, idle), eventLoop: channel.eventLoop)
        try pipeline.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                // The chat server's ping timeout takes over from the HTTP idle timer.
                let (requests, idle) = replaced.value
                context.pipeline.syncOperations.removeHandler(requests, promise: nil)
                context.pipeline.syncOperations.removeHandler(idle, promise: nil)
            }))
        try pipeline.addHandler(requests)
    }

    /// Only `/irc` upgrades, and only to IRC: a client naming subprotocols must name one of
    /// IRCv3's; one naming none gets text.
    static func upgradeHeaders(for head: HTTPRequestHead) -> HTTPHeaders? {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == ircPath else { return nil }
        // An opening handshake says `Connection: Upgrade` (RFC 6455 §4.1). Without it NIO's
        // HTTP decoder goes on parsing what follows as HTTP while the upgrader hands the
        // connection to the WebSocket decoder, which then traps on the next request.
        guard head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else { return nil }
        let offered = offeredSubprotocols(head)
        guard offered.isEmpty || chosenSubprotocol(head) != nil else { return nil }
        var headers = HTTPHeaders()
        if let chosen = chosenSubprotocol(head) { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
        return headers
    }

    static func offeredSubprotocols(_ head: HTTPRequestHead) -> [String] {
        head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func chosenSubprotocol(_ head: HTTPRequestHead) -> String? {
        let offered = offeredSubprotocols(head)
        return [textSubprotocol, binarySubprotocol].first(where: offered.contains)
    }
}

/// Connections open at once, shared by every event loop of the server.
final class ConnectionCount: Sendable {
    private let open = Mutex(0)

    func admit(limit: Int) -> Bool {
        open.withLock { open in
            guard open < limit else { return false }
            open += 1
            return true
        }
    }

    func release() { open.withLock { $0 -= 1 } }
}
