import ChatIRC
import NIOCore
import NIOPosix
import NIOSSL
import Locking

/// The embedded IRC server: one event loop carries every connection and the core (like
/// ngircd's single loop, it needs no locks), plain TCP or TLS when a certificate is given.
public final class IRCServer: Sendable {
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    public let core: ChatServerCore
    private let group: MultiThreadedEventLoopGroup
    private let listener = Mutex<Channel?>(nil)

    public init(config: IRCServerConfig, store: MessageStore) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        core = ChatServerCore(config: config, store: store, eventLoop: group.next())
    }

    /// The loop every chat connection lives on: a transport of another kind (WebSocket)
    /// serves from it too, so its clients share the core's loop.
    public var eventLoopGroup: EventLoopGroup { group }

    /// The port actually bound (useful with port 0).
    public var port: Int { listener.withLock { $0 }?.localAddress?.port ?? 0 }

    public func start(host: String, port: Int, tls: TLSFiles? = nil) throws {
        let sslContext = try tls.map { files -> NIOSSLContext in
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let core = self.core
        let sendQueue = core.config.sendQueueBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A fixed kernel send buffer: a client that stops reading costs at most this plus
            // the send queue, instead of whatever TCP autotuning grants it.
            .childChannelOption(.socketOption(.so_sndbuf), value: 64 * 1024)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: sendQueue / 2, high: sendQueue))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try core.addHandlers(to: channel.pipeline.syncOperations)
                }
            }
        let bound = try bootstrap.bind(host: host, port: port).wait()
        listener.withLock { $0 = bound }
        try core.eventLoop.submit { core.startTimers() }.wait()
    }

    /// Closes the listener and every connection, then the event loop.
    public func stop() throws {
        let core = self.core
        try? core.eventLoop.submit {
            core.stopTimers()
            for client in Array(core.clients.values) { client.channel.close(promise: nil) }
        }.wait()
        try? listener.withLock { l -> Channel? in
            defer { l = nil }
            return l
        }?.close().wait()
        try group.syncShutdownGracefully()
    }

    /// Runs `body` on the server's event loop (the core is confined to it).
    /// Runs `body` on the server's loop without waiting for it.
    public func execute(_ body: @escaping @Sendable (ChatServerCore) -> Void) {
        let core = self.core
        core.eventLoop.execute { body(core) }
    }

    public func onLoop<T: Sendable>(_ body: @escaping @Sendable (ChatServerCore) -> T) throws -> T {
        let core = self.core
        return try core.eventLoop.submit { body(core) }.wait()
    }
}
