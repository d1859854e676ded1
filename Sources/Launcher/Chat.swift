import ArgumentParser
import ChatCastSEI
import ChatIRC
import Foundation

/// `chatcast chat`: a terminal chat client. Lines from stdin go to the room; the room's
/// messages print as `HH:MM:SS <nick> text`; `/play` prints the room's RTSP URL (its
/// topic); `/quit` leaves. Stdin may be a pipe, so scripts can drive it.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chat in a room from the terminal (stdin may be a pipe).")

    @Option(help: "Chat server, irc://HOST:PORT or ircs://HOST:PORT.")
    var server = "irc://127.0.0.1:6667"

    @Option(help: "Room (IRC channel without #).")
    var room = "lobby"

    @Option(help: "Nick to use.")
    var nick: String

    @Option(help: "Server password (IRC PASS); or CHATCAST_IRC_PASSWORD, kept out of ps.")
    var password: String?

    @Option(name: .customLong("tls-ca"), help: "PEM certificate to trust for ircs:// (e.g. the server's self-signed one).")
    var tlsCA: String?

    @Option(name: .customLong("wait"), help: "Seconds to wait for the server before giving up.")
    var waitSeconds = 10.0

    func validate() throws {
        guard IRCServerAddress(server) != nil else { throw ValidationError("--server must look like irc://HOST:PORT") }
    }

    func run() throws {
        var options = IRCClient.Options(server: IRCServerAddress(server)!, nick: nick, rooms: [room],
                                        password: EnvironmentPassword.irc.resolve(password))
        options.echo = true
        options.trustedCertificate = tlsCA
        let joined = DispatchSemaphore(value: 0)
        let history = DispatchSemaphore(value: 0)
        let topic = Topic()
        let sent = Outstanding()
        let client = IRCClient(options: options) { event in
            switch event {
            case let .message(m, replayed):
                Terminal.print("\(Chat.clock(m.time)) <\(m.nick)> \(m.text)")
                if !replayed, CaseMapping.fold(m.nick) == CaseMapping.fold(nick) { sent.done() }
            case .joined: joined.signal()
            case let .topic(_, text): topic.answer(text)
            case let .notice(text): Terminal.say(text)
            case let .disconnected(reason): Terminal.say("disconnected: \(reason)")
            case .historyEnd: history.signal()
            case let .unsent(count): Terminal.say("\(count) line(s) typed while disconnected were dropped (too many waiting)")
            case .connected, .keyFrameWanted: break
            }
        }
        client.start()
        guard joined.wait(timeout: .now() + waitSeconds) == .success else {
            client.stop()
            Terminal.error("could not join #\(room) on \(server) within \(waitSeconds) s")
            throw ExitCode.failure
        }
        // The room's recent lines come first (servers without history send none: wait briefly).
        _ = history.wait(timeout: .now() + 1)
        while let line = readLine() {
            switch line.trimmingCharacters(in: .whitespaces) {
            case "": continue
            case "/quit":
                sent.wait(seconds: waitSeconds)
                client.stop()
                return
            case "/play":
                client.requestTopic(room: room)
                let url = topic.wait(seconds: waitSeconds)
                Terminal.print(url.map { $0.isEmpty ? "(no stream in #\(room))" : $0 } ?? "(no answer from the server)")
            default:
                sent.add()
                client.send(room: room, text: line)
            }
        }
        // A script's last lines: leave once the server has echoed them.
        sent.wait(seconds: waitSeconds)
        client.stop()
    }

    /// `HH:MM:SS` of an ISO time.
    static func clock(_ iso: String) -> String {
        let chars = Array(iso)
        return chars.count >= 19 ? String(chars[11..<19]) : iso
    }
}

/// Lines sent and not yet echoed by the server.
private final class Outstanding: @unchecked Sendable {  // `count` is touched only under `lock`
    private let lock = NSCondition()
    private var count = 0

    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    func done() {
        lock.lock()
        count = max(0, count - 1)
        lock.broadcast()
        lock.unlock()
    }

    func wait(seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while count > 0, lock.wait(until: deadline) {}
    }
}

/// The next topic answer, handed from the client's thread to the reading one.
private final class Topic: @unchecked Sendable {  // `value` is touched only under `lock`
    private let lock = NSCondition()
    private var value: String?

    func answer(_ text: String) {
        lock.lock()
        value = text
        lock.broadcast()
        lock.unlock()
    }

    func wait(seconds: Double) -> String? {
        lock.lock()
        defer {
            value = nil
            lock.unlock()
        }
        let deadline = Date().addingTimeInterval(seconds)
        while value == nil, lock.wait(until: deadline) {}
        return value
    }
}
