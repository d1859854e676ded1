import ChatCastHTTP
import ChatIRC
import ChatIRCServer
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Foundation
import XCTest

/// The server core on an `EmbeddedEventLoop`, with clients as `EmbeddedChannel`s: every
/// byte in and out is visible and time moves only when the test says so.
final class EmbeddedServer {
    /// How clients reach the core: IRC over TCP, or over WebSocket (`/irc` of the web server:
    /// NIO's frame codec and `WebSocketIRCFrames` in front of the same session handler).
    enum Transport { case tcp, webSocket }

    let transport: Transport
    let loop = EmbeddedEventLoop()
    var clock = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let core: ChatServerCore
    let store: MessageStore

    /// `store` answers on its own threads (SQLite) are waited for, so that its callbacks
    /// run on the test's thread like the loop's; `waitForStore: false` leaves that to the test.
    /// `wallClock` stamps messages (by default a fixed day, second by second: history is kept
    /// forever unless `configure` says otherwise, so that the fixed day never ages out).
    init(transport: Transport = .tcp, _ configure: (inout IRCServerConfig) -> Void = { _ in }, store: MessageStore = InMemoryMessageStore(),
         waitForStore: Bool = true, wallClock: (() -> String)? = nil) {
        self.transport = transport
        var config = IRCServerConfig()
        config.serverName = "test.server"
        config.historyRetention = .forever
        configure(&config)
        let store = waitForStore ? WaitingStore(store) : store
        self.store = store
        var counter = 0
        let box = ClockBox()
        core = ChatServerCore(config: config, store: store, eventLoop: loop, now: { box.now }, wallClock: wallClock ?? {
            counter += 1
            return "2026-11-25T12:00:\(String(format: "%02d", counter % 60)).000Z"
        })
        self.box = box
        box.now = clock
        core.startTimers()
    }

    private let box: ClockBox
    final class ClockBox { var now = NIODeadline.uptimeNanoseconds(0) }

    func advance(_ amount: TimeAmount) {
        clock = clock + amount
        box.now = clock
        loop.advanceTime(by: amount)
    }

    func connect(port: Int = 40000) throws -> Client {
        let channel = EmbeddedChannel(loop: loop)
        switch transport {
        case .tcp:
            try core.addHandlers(to: channel.pipeline.syncOperations)
        case .webSocket:
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 14)))
            try pipeline.addHandler(WebSocketFrameEncoder())
            try pipeline.addHandler(WebSocketIRCFrames())
            try core.addSessionHandler(to: pipeline)
        }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: port)).wait()
        return Client(channel: channel, transport: transport)
    }

    /// Connects and registers with NICK/USER, optionally negotiating capabilities first.
    func register(_ nick: String, caps: [String] = [], password: String? = nil) throws -> Client {
        let c = try connect()
        if let password { c.send("PASS \(password)") }
        if !caps.isEmpty {
            c.send("CAP LS 302")
            c.send("CAP REQ :\(caps.joined(separator: " "))")
        }
        c.send("NICK \(nick)")
        c.send("USER \(nick.lowercased()) 0 * :\(nick) Example")
        if !caps.isEmpty { c.send("CAP END") }
        let welcome = c.read()
        XCTAssertTrue(welcome.contains { $0.command == "001" }, "\(nick) not welcomed: \(welcome)")
        return c
    }
}

/// Runs a store's operations to completion before returning, calling back on the caller's
/// thread: an `EmbeddedEventLoop` must only be touched from the test's thread.
final class WaitingStore: MessageStore, @unchecked Sendable {
    let inner: MessageStore
    init(_ inner: MessageStore) { self.inner = inner }

    private func wait<T>(_ operation: (@escaping @Sendable (T) -> Void) -> Void) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        operation { value in
            box.value = value
            done.signal()
        }
        done.wait()
        return box.value!
    }
    private final class Box<T>: @unchecked Sendable { var value: T? }

    func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
        let error: Error? = wait { done in inner.append(message) { done($0) } }
        completion(error)
    }
    func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
        completion(wait { done in inner.history(channelKey: channelKey, query, completion: done) })
    }
    func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
        completion(wait { done in inner.redact(channelKey: channelKey, msgid: msgid, completion: done) })
    }
}

final class Client {
    let channel: EmbeddedChannel
    let transport: EmbeddedServer.Transport
    init(channel: EmbeddedChannel, transport: EmbeddedServer.Transport = .tcp) {
        self.channel = channel
        self.transport = transport
    }

    /// A line as each transport carries it: with CR LF on TCP, one message on WebSocket.
    func send(_ line: String) { sendRaw(Array((line + (transport == .tcp ? "\r\n" : "")).utf8)) }

    /// Bytes as they are: a stream on TCP, one masked text message on WebSocket.
    func sendRaw(_ bytes: [UInt8]) {
        let wire = transport == .tcp ? bytes : WebSocketWire.maskedTextFrame(bytes)
        var buffer = channel.allocator.buffer(capacity: wire.count)
        buffer.writeBytes(wire)
        XCTAssertNoThrow(try channel.writeInbound(buffer))
    }

    /// Every line the server wrote since the last read, parsed.
    func read() -> [IRCMessage] { readLines().map { try! IRCMessage.parse($0) } }

    func readLines() -> [String] {
        var bytes: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        switch transport {
        case .tcp:
            return String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        case .webSocket:
            let messages = WebSocketWire.serverMessages(bytes)
            XCTAssertTrue(messages.allSatisfy { !$0.contains("\r\n") }, "one line a message: \(messages)")
            return messages
        }
    }

    var isOpen: Bool { channel.isActive }
}

extension Array where Element == IRCMessage {
    func commands() -> [String] { map(\.command) }
    func first(_ command: String) -> IRCMessage? { first { $0.command == command } }
}

/// The browser's side of RFC 6455, as much as these tests need: masked frames out, the
/// server's unmasked frames read back (text messages; close frames skipped).
enum WebSocketWire {
    static func maskedTextFrame(_ payload: [UInt8], opcode: UInt8 = 0x1, fin: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    static func serverMessages(_ bytes: [UInt8]) -> [String] {
        var messages: [String] = []
        var at = 0
        while at + 2 <= bytes.count {
            let opcode = bytes[at] & 0x0F
            var length = Int(bytes[at + 1] & 0x7F)
            at += 2
            if length == 126 {
                length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
                at += 2
            } else if length == 127 {
                length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[at + $1]) }
                at += 8
            }
            guard at + length <= bytes.count else { break }
            if opcode == 0x1 || opcode == 0x2 { messages.append(String(decoding: bytes[at..<at + length], as: UTF8.self)) }
            at += length
        }
        return messages
    }
}
