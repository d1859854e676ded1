import ChatIRC
import NIOCore
import NIOWebSocket

/// IRC over WebSocket (IRCv3's WebSocket transport): each message from the browser is one
/// IRC line, handed on as the TCP line decoder hands lines on — the same length limit
/// (`.tooLong` once for an oversized message, fragments included), CR LF dropped — so the
/// chat server applies every rule it applies to TCP clients. Each line the server writes
/// becomes one message: text frames for `text.ircv3.net`, binary for `binary.ircv3.net`.
/// Pings are answered; a close is answered and ends the connection; a close from the
/// server is sent as a close frame first.
public final class WebSocketIRCFrames: ChannelDuplexHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias InboundOut = IRCInboundLine
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = WebSocketFrame

    public let maxLineBytes: Int
    private let binary: Bool
    private var message = ByteBuffer()
    private var discarding = false
    private var inMessage = false
    private var closeSent = false

    public init(binary: Bool = false, maxLineBytes: Int = IRCLineDecoder().maxLineBytes) {
        self.binary = binary
        self.maxLineBytes = maxLineBytes
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.maskKey != nil else { return fail(context, code: .protocolError) }  // RFC 6455 §5.1
        switch frame.opcode {
        case .text, .binary, .continuation:
            // A continuation only within a message, a new message only after the last one ended.
            guard (frame.opcode == .continuation) == inMessage else { return fail(context, code: .protocolError) }
            inMessage = !frame.fin
            var data = frame.unmaskedData
            if !discarding {
                // A line and its CR LF may be sent; anything longer is too long.
                if message.readableBytes + data.readableBytes > maxLineBytes + 2 {
                    message.clear()
                    discarding = true
                    context.fireChannelRead(wrapInboundOut(.tooLong))
                } else {
                    message.writeBuffer(&data)
                }
            }
            if frame.fin {
                if !discarding { deliverLines(context) }
                message.clear()
                discarding = false
            }
        case .ping:
            var pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            pong.rsv1 = false
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            sendClose(context, code: code == .unknown(1005) ? .normalClosure : code, thenClose: true)
        default:
            break
        }
    }

    /// Splits the message at LF like the TCP decoder (a client may send CR LF, or several
    /// lines in one message); empty lines are skipped.
    private func deliverLines(_ context: ChannelHandlerContext) {
        while message.readableBytes > 0 {
            let line = message.readIRCLine()
            if line.readableBytes > maxLineBytes {
                context.fireChannelRead(wrapInboundOut(.tooLong))
            } else if line.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(.line(line)))
            }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        var frames: [ByteBuffer] = []
        while bytes.readableBytes > 0 {
            let line = bytes.readIRCLine()
            if line.readableBytes > 0 { frames.append(line) }
        }
        guard let last = frames.popLast() else {
            promise?.succeed()
            return
        }
        for line in frames { context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: binary ? .binary : .text, data: line)), promise: nil) }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: binary ? .binary : .text, data: last)), promise: promise)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && !closeSent && context.channel.isActive {
            closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    private func fail(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        sendClose(context, code: code, thenClose: true)
    }

    private func sendClose(_ context: ChannelHandlerContext, code: WebSocketErrorCode, thenClose: Bool) {
        guard !closeSent else { return context.close(promise: nil) }
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { [channel = context.channel] _ in
            if thenClose { channel.close(promise: nil) }
        }
    }
}

extension ByteBuffer {
    /// The next line of a whole message: up to LF or the end, without its CR LF.
    mutating func readIRCLine() -> ByteBuffer {
        let newline = withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) } ?? readableBytes
        var line = readSlice(length: newline)!
        moveReaderIndex(forwardBy: min(1, readableBytes))
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        return line
    }
}
