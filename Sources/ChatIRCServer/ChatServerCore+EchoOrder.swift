import ChatIRC
import NIOCore

/// A channel message's echo (`echo-message`) leaves once the message is stored, a few
/// milliseconds after it was handled (REDACT and CHATHISTORY answers likewise wait for the store). Lines the same client sends meanwhile wait for it, so
/// that the client sees replies in the order it asked (its echo before the PONG of a
/// following PING, as every ircd answers); reading pauses while many wait.
extension ChatServerCore {
    /// Lines held per client before its socket stops being read.
    static let heldLinesBeforePause = 64

    /// True when the line was held (an echo of this client is still on its way).
    func holdIfEchoPending(_ input: IRCInboundLine, from client: ClientState) -> Bool {
        guard client.echoesPending > 0 else { return false }
        client.heldLines.append(input)
        if client.heldLines.count == Self.heldLinesBeforePause {
            client.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        return true
    }

    /// One echo went out: handle what the client sent after it.
    func echoSent(to client: ClientState) {
        eventLoop.assertInEventLoop()
        client.echoesPending -= 1
        while client.echoesPending == 0, !client.heldLines.isEmpty, !client.closing {
            received(client.heldLines.removeFirst(), from: client)
        }
        if client.heldLines.count < Self.heldLinesBeforePause, client.channel.isActive {
            client.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }
}
