import ArgumentParser
import ChatCastRTSP
import ChatIRCServer
import Foundation

/// `chatcast serve`: the RTSP server (gst-rtsp-server on its own GLib main-loop thread) and
/// the chat server (IRC on SwiftNIO, history in SQLite) in one process until SIGINT or
/// SIGTERM. A publisher RECORDs to rtsp://HOST:PORT/ROOM, viewers PLAY the same URL, and
/// the topic of #ROOM is that URL while the stream is live.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the video (RTSP) and chat (IRC) server.")

    @Option(help: "Address to listen on (loopback by default).")
    var bind = "127.0.0.1"

    @Option(name: .customLong("rtsp-port"), help: "RTSP port (0 picks a free one).")
    var rtspPort = 8554

    @Option(name: .customLong("irc-port"), help: "IRC port (0 picks a free one).")
    var ircPort = 6667

    @Option(name: .customLong("data-dir"), help: "Where room history is kept (default: $XDG_DATA_HOME/chatcast or ~/.local/share/chatcast).")
    var dataDir: String?

    @Option(name: .customLong("irc-password"), help: "Password every chat client must give (IRC PASS).")
    var ircPassword: String?

    @Option(name: .customLong("publish-user"), help: "User name publishers give for RTSP RECORD (with --publish-password).")
    var publishUser = "publisher"

    @Option(name: .customLong("publish-password"),
            help: "Password of publishers: RTSP RECORD needs it (401 otherwise), and on IRC it lets them set a room's topic.")
    var publishPassword: String?

    @Option(name: .customLong("max-viewers"), help: "RTSP sessions at once (viewers and publishers).")
    var maxViewers = 64

    @Option(name: .customLong("tls-cert"), help: "PEM certificate: serve RTSPS and IRC over TLS.")
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
        let video: RTSPServer
        do {
            video = try startVideo(chat: server)
        } catch {
            Terminal.error("\(error)")
            try? server.stop()
            throw ExitCode.failure
        }
        Terminal.say("chat on \(tlsCert == nil ? "irc" : "ircs")://\(bind):\(server.port) (history in \(directory))")
        Terminal.say("video on \(video.scheme)://\(bind):\(video.port)/ROOM (publishers RECORD, viewers PLAY"
            + (publishPassword == nil ? "; anyone may publish: set --publish-password" : "; RECORD needs --publish-user/--publish-password") + ")")
        let rates = RateMeter()
        let status = StatusLine { [video, server] in
            let rooms = video.liveRooms
            let kbps = rates.perSecond(total: video.bytesReceived) * 8 / 1000
            let chatters = (try? server.onLoop { $0.connectionCount }) ?? 0
            return "live rooms \(rooms.count) · sessions \(video.sessionCount) · in \(Int(kbps)) kbit/s · chat clients \(chatters)"
        }
        let signal = StopSignal.wait()
        status.stop()
        Terminal.say("stopping (\(signal))")
        video.stop()
        try server.stop()
    }

    /// The RTSP half: rooms' topics follow their streams.
    private func startVideo(chat: IRCServer) throws -> RTSPServer {
        var settings = RTSPServer.Settings()
        settings.address = bind
        settings.port = rtspPort
        settings.maxSessions = maxViewers
        settings.publisher = publishPassword.map { RTSPServer.Credentials(user: publishUser, password: $0) }
        settings.tlsCertificate = tlsCert
        settings.tlsKey = tlsKey
        let video = try RTSPServer(settings: settings)
        video.onRoomLive = { room, url in
            Terminal.say("#\(room) is live at \(url)")
            _ = try? chat.onLoop { $0.setTopic(room: room, to: url) }
        }
        video.onRoomEnded = { room in
            Terminal.say("#\(room) ended")
            _ = try? chat.onLoop { $0.setTopic(room: room, to: nil) }
        }
        try video.start()
        return video
    }
}
