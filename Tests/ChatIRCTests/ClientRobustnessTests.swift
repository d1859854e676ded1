import ChatCastSEI
import ChatIRC
import Foundation
import Locking
import XCTest

/// The IRC client against servers that misbehave (Tests/interop/hostile_irc_server.py): odd
/// lines, silence, a server that stops reading; and stop() from any thread.
final class ClientRobustnessTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/hostile_irc_server.py").path
    static let host = "127.0.0.10"

    /// The fake server, and its port once it listens.
    private func fakeServer(_ plan: String) throws -> (Process, Int, () -> [String]) {
        let out = NSTemporaryDirectory() + "chatcast-fake-irc-\(UUID().uuidString).out"
        FileManager.default.createFile(atPath: out, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.script, "--host", Self.host, "--plan", plan]
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle.nullDevice
        try process.run()
        addTeardownBlock {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: out)
        }
        let events = { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        var port = 0
        wait("the fake server listens") {
            port = events().first { $0.hasPrefix("listening ") }.flatMap { Int($0.dropFirst("listening ".count)) } ?? 0
            return port > 0
        }
        return (process, port, events)
    }

    private func wait(_ what: String, timeout: TimeInterval = 30, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertTrue(condition(), "timed out waiting for \(what)")
    }

    private func options(port: Int) -> IRCClient.Options {
        var options = IRCClient.Options(server: IRCServerAddress(host: Self.host, port: port), nick: "cam", rooms: ["lobby"])
        options.maxBackoffSeconds = 0.5
        return options
    }

    private func received(_ events: ClientTests.Collector, _ text: String) -> Bool {
        events.count { if case let .message(m, _) = $0 { return m.text == text } else { return false } } > 0
    }

    func testEveryOddLineIsSurvivedAndAWellFormedOneStillArrives() throws {
        let (_, port, serverEvents) = try fakeServer("odd")
        let events = ClientTests.Collector()
        let client = IRCClient(options: options(port: port)) { events.add($0) }
        client.start()
        defer { client.stop() }
        wait("the well-formed line", timeout: 60) { received(events, "the well-formed line") }
        // A server refusing every nick is given up after a bounded number of tries.
        let refused = events.all.contains { if case let .disconnected(reason) = $0 { return reason.contains("refused 10 nicks") } else { return false } }
        XCTAssertTrue(refused, "\(events.all.suffix(10))")
        XCTAssertTrue(serverEvents().contains("connection 2"))
        // Messages that were no chat message of a joined room did not become one.
        let texts = events.all.compactMap { if case let .message(m, _) = $0 { return m.text } else { return nil } }
        XCTAssertFalse(texts.contains("from nobody") || texts.contains("not our room"), "\(texts)")
    }

    func testASilentServerIsPingedThenLeftAndConnectedToAgain() throws {
        let (_, port, serverEvents) = try fakeServer("silent")
        var options = options(port: port)
        options.pingIntervalSeconds = 0.5
        let events = ClientTests.Collector()
        let client = IRCClient(options: options) { events.add($0) }
        client.start()
        defer { client.stop() }
        wait("the well-formed line, on the second connection") { received(events, "the well-formed line") }
        XCTAssertTrue(events.all.contains { if case let .disconnected(reason) = $0 { return reason.contains("ping timeout") } else { return false } },
                      "\(events.all)")
        XCTAssertTrue(serverEvents().contains("silent 1"))
    }

    /// A server that stops reading costs the client at most its send buffer: what does not
    /// fit is dropped and counted, never queued.
    func testAStalledServerDoesNotGrowTheClientsMemory() throws {
        let (_, port, serverEvents) = try fakeServer("stalled")
        let joined = DispatchSemaphore(value: 0)
        let unsent = Tally()
        // Only counted, not kept: a list of 100 000 events would be the memory measured.
        let client = IRCClient(options: options(port: port)) { event in
            switch event {
            case let .unsent(n): unsent.add(n)
            case .joined: joined.signal()
            default: break
            }
        }
        client.start()
        defer { client.stop() }
        XCTAssertEqual(joined.wait(timeout: .now() + 30), .success)
        wait("the server stalls") { serverEvents().contains("stalling 1") }
        let line = String(repeating: "x", count: 400)
        // Twice 20 MB of chat: what the first round costs (a queue of tasks in flight,
        // malloc's arenas) the second reuses; a client that kept lines would grow by 20 MB again.
        var resident: [Int] = []
        for round in 1...2 {
            for _ in 0..<50_000 { client.send(room: "lobby", text: line) }
            // The kernel's socket buffers take the first few MB; the rest is dropped.
            wait("round \(round): lines beyond the send buffer are dropped") { unsent.value > round * 50_000 - 20_000 }
            var last = -1
            while unsent.value != last {
                last = unsent.value
                Thread.sleep(forTimeInterval: 0.3)
            }
            resident.append(residentBytes())
        }
        let grown = resident[1] - resident[0]
        XCTAssertLessThan(grown, 4 << 20, "the second 20 MB sent to a server that reads nothing grew the client by \(grown >> 10) KB")
    }

    func testStopFromTheEventHandlerAndSendsAfterStopAreHarmless() throws {
        let (_, port, _) = try fakeServer("silent")
        let stopped = DispatchSemaphore(value: 0)
        let box = Mutex<IRCClient?>(nil)
        let client = IRCClient(options: options(port: port)) { event in
            guard case .connected = event, let client = box.withLock({ $0 }) else { return }
            client.stop(message: "stopping from my own event handler")
            stopped.signal()
        }
        box.withLock { $0 = client }
        client.start()
        XCTAssertEqual(stopped.wait(timeout: .now() + 20), .success, "stop() from onEvent returned")
        Thread.sleep(forTimeInterval: 0.5)
        // The client's event loop group is shut down by now: these go nowhere, quietly.
        client.send(room: "lobby", text: "after stop")
        client.setTopic(room: "lobby", to: "after stop")
        client.start()
        client.stop()
        XCTAssertNil(client.localAddress())
        box.withLock { $0 = nil }
    }

    private func residentBytes() -> Int {
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// A count other threads add to.
private final class Tally: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}
