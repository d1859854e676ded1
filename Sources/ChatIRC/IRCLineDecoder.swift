import NIOCore

/// What the line decoder hands on: a line without CR LF, or word that one was too long.
public enum IRCInboundLine: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits the byte stream at LF (a CR before it is dropped). A line longer than
/// `maxLineBytes` is reported once as `.tooLong` and skipped up to its end, so a 10 KB line
/// costs the peer a numeric, not the server its memory.
public struct IRCLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = IRCInboundLine
    public let maxLineBytes: Int
    private var discarding = false

    /// 512 bytes of message plus 4096 of tags (IRCv3 message-tags).
    public init(maxLineBytes: Int = 512 + 4096) { self.maxLineBytes = maxLineBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let newline = buffer.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) }
        guard let newline else {
            if buffer.readableBytes > maxLineBytes + 1 {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                if !discarding {
                    discarding = true
                    context.fireChannelRead(wrapInboundOut(.tooLong))
                }
            }
            return .needMoreData
        }
        var line = buffer.readSlice(length: newline)!
        buffer.moveReaderIndex(forwardBy: 1)
        if discarding {
            discarding = false  // the end of a line already reported
            return .continue
        }
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if line.readableBytes > maxLineBytes {
            context.fireChannelRead(wrapInboundOut(.tooLong))
        } else if line.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)  // a last line without LF is dropped
        return .needMoreData
    }
}
