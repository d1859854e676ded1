import ChatIRC
import NIOCore

/// Connects one channel to the server core: lines in, connection events in. Output is
/// written by the core straight to the channel.
final class IRCSessionHandler: ChannelInboundHandler {
    typealias InboundIn = IRCInboundLine

    private let core: ChatServerCore
    private var client: ClientState?

    init(core: ChatServerCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        connect(context)
        context.fireChannelActive()
    }

    /// A WebSocket connection is already active when its upgrade adds this handler.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connect(context) }
    }

    private func connect(_ context: ChannelHandlerContext) {
        guard client == nil else { return }
        let host = context.channel.remoteAddress?.ipAddress ?? "unknown"
        client = core.connected(context.channel, host: host)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let client else { return }
        core.received(unwrapInboundIn(data), from: client)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        core.flushWrites()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let client { core.writabilityChanged(client) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let client { core.disconnected(client) }
        client = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and TLS failures end the connection; the server carries on.
        context.close(promise: nil)
    }
}
