import NIOCore
import NIOEmbedded

/// libFuzzer entry for what a chat server runs on a client's bytes: IRCLineDecoder in a
/// channel (fed in chunks, so partial lines and discarding are exercised) and
/// IRCMessage.parse on each line. The first byte picks the line limit and the chunk size.
///
/// Beyond "no crash": the decoder hands on exactly the lines a plain LF split gives
/// (`ReferenceLines`), each parse agrees with a byte-level RFC 1459 parse
/// (`ReferenceMessage`: IRC splits on the byte 0x20, not on characters), and a parsed
/// message reads back the same from its own serialized form.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIRC(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let maxLine = data[0] & 0x80 == 0 ? 512 + 4096 : 8 + Int(data[0] & 0x3F)
    let chunk = 1 + Int(data[0] & 0x0F) * 7
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let lines = decodedLines(stream, maxLine: maxLine, chunk: chunk)
    let expected = ReferenceLines.split(stream, maxLine: maxLine)
    check(lines == expected, "decoder gave \(lines.count) lines, a LF split \(expected.count) (limit \(maxLine), chunks of \(chunk))")
    for case let .line(bytes) in lines {
        let message = try? IRCMessage.parse(bytes)
        let reference = ReferenceMessage.parse(bytes)
        check(message.map(ReferenceMessage.init) == reference,
                     "\(String(decoding: bytes, as: UTF8.self).debugDescription) parses as \(String(describing: message)), bytes say \(String(describing: reference))")
        guard let message else { continue }
        let line = message.serialized
        check(line.hasSuffix("\r\n"), "\(line.debugDescription) does not end in CR LF")
        let again = try? IRCMessage.parse(String(line.utf8.dropLast(2))!)
        check(again == message, "\(line.debugDescription) reads back as \(String(describing: again)), not \(message)")
    }
    return 0
}

/// What the decoder emitted: lines as bytes, or a too-long marker.
enum Line: Equatable {
    case line([UInt8])
    case tooLong
}

func decodedLines(_ stream: [UInt8], maxLine: Int, chunk: Int) -> [Line] {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(IRCLineDecoder(maxLineBytes: maxLine)))
    var out: [Line] = []
    func drain() {
        while let item = try! channel.readInbound(as: IRCInboundLine.self) {
            switch item {
            case let .line(buffer): out.append(.line(Array(buffer.readableBytesView)))
            case .tooLong: out.append(.tooLong)
            }
        }
    }
    var at = 0
    while at < stream.count {
        let end = min(at + chunk, stream.count)
        try! channel.writeInbound(channel.allocator.buffer(bytes: stream[at..<end]))
        drain()
        at = end
    }
    _ = try! channel.finish(acceptAlreadyClosed: true)
    drain()
    return out
}
