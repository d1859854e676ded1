import ArgumentParser
import ChatIRCServer
import Foundation

/// `chatcast serve`: the chat server (IRC on SwiftNIO, history in SQLite) until SIGINT or
/// SIGTERM. The RTSP half joins it in the launcher's own issue.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the chat server (IRC) with room history.")

    @Option(help: "Address to listen on (loopback by default).")
    var bind = "127.0.0.1"

    @Option(name: .customLong("irc-port"), help: "IRC port (0 picks a free one).")
    var ircPort = 6667

    @Option(name: .customLong("data-dir"), help: "Where room history is kept (default: $XDG_DATA_HOME/chatcast or ~/.local/share/chatcast).")
    var dataDir: String?

    @Option(name: .customLong("irc-password"), help: "Password every chat client must give (IRC PASS).")
    var ircPassword: String?

    @Option(name: .customLong("publish-password"), help: "Password of publishers: they may set a room's topic (its stream URL).")
    var publishPassword: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate: serve IRC over TLS.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("max-connections"), help: "Connections accepted at once.")
    var maxConnections = 2000

    @Option(name: .customLong("rate-limit"), help: "Chat messages a client may send: MESSAGES/SECONDS (token bucket).")
    var rateLimit = "20/30"

    var parsedRateLimit: (burst: Int, seconds: Int)? {
        let parts = rateLimit.split(separator: "/")
        guard parts.count == 2, let burst = Int(parts[0]), let seconds = Int(parts[1]), burst > 0, seconds > 0 else { return nil }
        return (burst, seconds)
    }

    func validate() throws {
        guard parsedRateLimit != nil else { throw ValidationError("--rate-limit must look like 20/30 (messages/seconds)") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        for path in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("\(path): not a readable file")
        }
    }

    static func defaultDataDir() -> String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return base + "/chatcast"
    }

    func run() throws {
        var config = IRCServerConfig()
        config.password = ircPassword
        config.publisherPassword = publishPassword
        config.maxConnections = maxConnections
        config.rateBurst = parsedRateLimit!.burst
        config.ratePeriodSeconds = parsedRateLimit!.seconds
        let directory = dataDir ?? Self.defaultDataDir()
        let store: SQLiteMessageStore
        do { store = try SQLiteMessageStore(directory: directory) } catch {
            throw CleanExit.message("chatcast: cannot open the history in \(directory): \(error)")
        }
        let server = IRCServer(config: config, store: store)
        do {
            try server.start(host: bind, port: ircPort,
                             tls: tlsCert.map { IRCServer.TLSFiles(certificate: $0, privateKey: tlsKey!) })
        } catch {
            Terminal.error("cannot listen on \(bind):\(ircPort) for IRC: \(error)")
            throw ExitCode.failure
        }
        Terminal.say("chat on \(tlsCert == nil ? "irc" : "ircs")://\(bind):\(server.port) (history in \(directory))")
        let signal = StopSignal.wait()
        Terminal.say("stopping (\(signal))")
        try server.stop()
    }
}
