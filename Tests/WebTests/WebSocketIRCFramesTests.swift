import ChatCastHTTP
import ChatIRC
import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

/// The WebSocket framing of IRC lines, frame by frame: what browsers and odd clients send.
final class WebSocketIRCFramesTests: XCTestCase {
    private var channel: EmbeddedChannel!

    override func setUpWithError() throws {
        channel = EmbeddedChannel(handler: WebSocketIRCFrames())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    private func frame(_ text: String, opcode: WebSocketOpcode = .text, fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        let data = ByteBuffer(string: text)
        var frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: masked ? WebSocketMaskingKey([1, 2, 3, 4]) : nil, data: data)
        if masked { frame.data.webSocketMask(frame.maskKey!) }
        return frame
    }

    private func lines() throws -> [IRCInboundLine] {
        var out: [IRCInboundLine] = []
        while let line = try channel.readInbound(as: IRCInboundLine.self) { out.append(line) }
        return out
    }

    private func text(_ lines: [IRCInboundLine]) -> [String] {
        lines.map { if case let .line(buffer) = $0 { return String(buffer: buffer) } else { return "<too long>" } }
    }

    private func written() throws -> [WebSocketFrame] {
        var out: [WebSocketFrame] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) { out.append(frame) }
        return out
    }

    func testOneMessageIsOneLineWithOrWithoutCRLFAndSeveralLinesSplit() throws {
        try channel.writeInbound(frame("NICK web"))
        try channel.writeInbound(frame("USER web 0 * :Web\r\n"))
        try channel.writeInbound(frame("JOIN #a\nPRIVMSG #a :two\r\n\r\n"))
        try channel.writeInbound(frame(""))
        XCTAssertEqual(text(try lines()), ["NICK web", "USER web 0 * :Web", "JOIN #a", "PRIVMSG #a :two"])
    }

    func testFragmentsJoinAndAnOversizedMessageIsReportedOnce() throws {
        try channel.writeInbound(frame("PRIVMSG #a :he", fin: false))
        try channel.writeInbound(frame("llo", opcode: .continuation))
        let limit = WebSocketIRCFrames().maxLineBytes
        try channel.writeInbound(frame(String(repeating: "x", count: limit), fin: false))
        try channel.writeInbound(frame(String(repeating: "y", count: 10), opcode: .continuation, fin: false))
        try channel.writeInbound(frame(String(repeating: "z", count: 10), opcode: .continuation))
        try channel.writeInbound(frame("PING :after"))
        XCTAssertEqual(text(try lines()), ["PRIVMSG #a :hello", "<too long>", "PING :after"])
    }

    func testPingsAreAnsweredAndAnUnmaskedFrameIsAProtocolError() throws {
        try channel.writeInbound(frame("are you there", opcode: .ping))
        let pong = try XCTUnwrap(try written().first)
        XCTAssertEqual(pong.opcode, .pong)
        XCTAssertEqual(String(buffer: pong.data), "are you there")
        try channel.writeInbound(frame("NICK x", masked: false))
        let close = try XCTUnwrap(try written().first)
        XCTAssertEqual(close.opcode, .connectionClose)
        var data = close.data
        XCTAssertEqual(data.readWebSocketErrorCode(), .protocolError)
        XCTAssertEqual(try lines().count, 0, "nothing from a client that does not mask")
    }

    func testAContinuationWithoutAMessageIsAProtocolError() throws {
        try channel.writeInbound(frame("stray", opcode: .continuation))
        XCTAssertEqual(try written().first?.opcode, .connectionClose)
    }

    func testTheServersLinesBecomeOneTextMessageEachAndItsCloseACloseFrame() throws {
        try channel.writeOutbound(ByteBuffer(string: ":s 001 web :Welcome\r\n:s 002 web :Your host\r\n"))
        XCTAssertEqual(try written().map { String(buffer: $0.data) }, [":s 001 web :Welcome", ":s 002 web :Your host"])
        channel.close(promise: nil)
        XCTAssertEqual(try written().first?.opcode, .connectionClose)
    }

    func testACloseFromTheBrowserIsAnsweredAndEndsTheConnection() throws {
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .goingAway)
        var closing = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: WebSocketMaskingKey([9, 9, 9, 9]), data: code)
        closing.data.webSocketMask(closing.maskKey!)
        try channel.writeInbound(closing)
        XCTAssertEqual(try written().first?.opcode, .connectionClose)
        XCTAssertFalse(channel.isActive)
    }

    func testBinarySubprotocolSendsBinaryMessages() throws {
        let binary = EmbeddedChannel(handler: WebSocketIRCFrames(binary: true))
        try binary.writeOutbound(ByteBuffer(string: "PING :x\r\n"))
        XCTAssertEqual(try binary.readOutbound(as: WebSocketFrame.self)?.opcode, .binary)
    }
}
