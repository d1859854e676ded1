import ChatIRC
import ChatIRCServer
import NIOCore
import NIOEmbedded
import Foundation
import XCTest

/// The server core on an `EmbeddedEventLoop`, with clients as `EmbeddedChannel`s: every
/// byte in and out is visible and time moves only when the test says so.
final class EmbeddedServer {
    let loop = EmbeddedEventLoop()
    var clock = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let core: ChatServerCore
    let store: MessageStore

    /// `store` answers on its own threads (SQLite) are waited for, so that its callbacks
    /// run on the test's thread like the loop's; `waitForStore: false` leaves that to the test.
    init(_ configure: (inout IRCServerConfig) -> Void = { _ in }, store: MessageStore = InMemoryMessageStore(),
         waitForStore: Bool = true) {
        var config = IRCServerConfig()
        config.serverName = "test.server"
        configure(&config)
        let store = waitForStore ? WaitingStore(store) : store
        self.store = store
        var counter = 0
        let box = ClockBox()
        core = ChatServerCore(config: config, store: store, eventLoop: loop, now: { box.now }, wallClock: {
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
        try core.addHandlers(to: channel.pipeline.syncOperations)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: port)).wait()
        return Client(channel: channel)
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
    init(channel: EmbeddedChannel) { self.channel = channel }

    func send(_ line: String) { sendRaw(Array((line + "\r\n").utf8)) }

    func sendRaw(_ bytes: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        XCTAssertNoThrow(try channel.writeInbound(buffer))
    }

    /// Every line the server wrote since the last read, parsed.
    func read() -> [IRCMessage] { readLines().map { try! IRCMessage.parse($0) } }

    func readLines() -> [String] {
        var text = ""
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    var isOpen: Bool { channel.isActive }
}

extension Array where Element == IRCMessage {
    func commands() -> [String] { map(\.command) }
    func first(_ command: String) -> IRCMessage? { first { $0.command == command } }
}
