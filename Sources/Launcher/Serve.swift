import ArgumentParser
import ChatCastHTTP
import ChatCastPresets
import ChatCastRTSP
import ChatIRCServer
import Foundation
import Locking

/// `chatcast serve`: the RTSP server (gst-rtsp-server on its own GLib main-loop thread) and
/// the chat server (IRC on SwiftNIO, history in SQLite) in one process until SIGINT or
/// SIGTERM. A publisher RECORDs to rtsp://HOST:PORT/ROOM, viewers PLAY the same URL, and
/// the topic of #ROOM is that URL while the stream is live.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the video (RTSP) and chat (IRC) server.",
        discussion: """
            Every setting may also come from --config FILE (YAML, keys named like the flags, e.g. rtsp-port: 8554); \
            a flag on the command line wins. The file may also name rooms the server runs detection on \
            (rooms: {lobby: {detect: true}} re-publishes #lobby with detections as #lobby-detected) and fixed \
            mounts served from publish presets (mounts: {/clock: {preset: test}}).
            """)

    @Option(help: "YAML file with these settings, rooms with server-side detection, and fixed mounts.")
    var config: String?

    @Option(help: "Address to listen on (default: 127.0.0.1).")
    var bind: String?

    @Option(name: .customLong("rtsp-port"), help: "RTSP port; 0 picks a free one (default: 8554).")
    var rtspPort: Int?

    @Option(name: .customLong("irc-port"), help: "IRC port; 0 picks a free one (default: 6667).")
    var ircPort: Int?

    @Option(name: .customLong("http-port"),
            help: "HTTP port of the browser viewer (/ROOM), WHEP, /metrics and IRC over WebSocket (/irc); 0 picks a free one (default: 8080, skipped with a warning when busy).")
    var httpPort: Int?

    @Option(name: .customLong("web-dir"), help: "The viewer's files (default: the installed ones).")
    var webDir: String?

    @Option(help: "STUN server for browsers on other networks, stun://HOST:PORT (loopback and LAN need none).")
    var stun: String?

    @Option(help: "TURN server for browsers behind strict NATs, turn://USER:PASSWORD@HOST:PORT (repeatable).")
    var turn: [String] = []

    @Option(name: .customLong("data-dir"), help: "Where room history is kept (default: $XDG_DATA_HOME/chatcast or ~/.local/share/chatcast).")
    var dataDir: String?

    @Option(name: .customLong("irc-password"), help: "Password every chat client must give (IRC PASS); or CHATCAST_IRC_PASSWORD, kept out of ps.")
    var ircPassword: String?

    @Option(name: .customLong("publish-user"), help: "User name publishers give for RTSP RECORD (default: publisher).")
    var publishUser: String?

    @Option(name: .customLong("publish-password"),
            help: "Password of publishers: RTSP RECORD needs it (401 otherwise), and on IRC it lets them set a room's topic; or CHATCAST_PUBLISH_PASSWORD, kept out of ps.")
    var publishPassword: String?

    @Option(name: .customLong("max-viewers"), help: "RTSP sessions at once, viewers and publishers (default: 64).")
    var maxViewers: Int?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate: serve RTSPS and IRC over TLS.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("server-name"), help: "The chat server's name in IRC replies (default: this host's name).")
    var serverName: String?

    @Option(name: .customLong("max-connections"), help: "Chat connections accepted at once (default: 2000).")
    var maxConnections: Int?

    @Option(name: .customLong("rate-limit"), help: "Chat messages a client may send: MESSAGES/SECONDS, a token bucket (default: 20/30).")
    var rateLimit: String?

    @Option(name: .customLong("record-dir"), help: "Record every live room here: Matroska files named ROOM-UTCSTART.mkv, written as they go (a crash loses about a second), chat and detections inside.")
    var recordDir: String?

    @Option(name: .customLong("record-segment-seconds"), help: "Start a new recording file after this many seconds, at a key frame (default: 3600).")
    var recordSegmentSeconds: Int?

    @Option(name: .customLong("record-segment-megabytes"), help: "Start a new recording file after this many MB (default: no limit).")
    var recordSegmentMegabytes: Int?

    @Option(name: .customLong("history-days"), help: "Days of chat history kept; older messages are deleted (0: no age limit; default: 30).")
    var historyDays: Int?

    @Option(name: .customLong("history-max-messages"),
            help: "Messages of chat history kept per room; older ones are deleted (0: no limit; default: 10000).")
    var historyMaxMessages: Int?

    @OptionGroup var location: Presets.Location

    func run() throws {
        MallocArenas.apply()
        StopSignal.arm()
        var file: ServeConfig?
        if let config {
            do { file = try ServeConfig.load(file: config) } catch let error as PresetError {
                Terminal.error("\(error)")
                throw ExitCode.failure
            }
        }
        let settings: ServeSettings
        do { settings = try ServeSettings(flags: self, file: file) } catch let error as ValidationError {
            Terminal.error(error.message)
            throw ExitCode(64)
        }
        // Mounts are built before anything listens, so a bad one stops nothing.
        let mountLaunches = try settings.mounts.map { ($0, try mountLaunch($0, settings: settings)) }

        var chatConfig = IRCServerConfig()
        chatConfig.password = settings.ircPassword
        chatConfig.publisherPassword = settings.publishPassword
        chatConfig.maxConnections = settings.maxConnections
        chatConfig.serverName = settings.serverName
        chatConfig.operators = settings.operators
        chatConfig.rateBurst = settings.rateBurst
        chatConfig.ratePeriodSeconds = settings.ratePeriodSeconds
        chatConfig.historyRetention = settings.historyRetention
        let store: SQLiteMessageStore
        do { store = try SQLiteMessageStore(directory: settings.dataDir, retention: settings.historyRetention) } catch {
            throw CleanExit.message("chatcast: cannot open the history in \(settings.dataDir): \(error)")
        }
        let server = IRCServer(config: chatConfig, store: store)
        do {
            try server.start(host: settings.bind, port: settings.ircPort,
                             tls: settings.tlsCert.map { IRCServer.TLSFiles(certificate: $0, privateKey: settings.tlsKey!) })
        } catch {
            Terminal.error("cannot listen on \(settings.bind):\(settings.ircPort) for IRC: \(error)")
            throw ExitCode.failure
        }
        let detectors = RoomDetectors(rooms: settings.detectedRooms, user: settings.publishUser, password: settings.publishPassword,
                                      presetDirectory: location.directory,
                                      chatServer: "\(settings.tlsCert == nil ? "irc" : "ircs")://\(settings.loopbackHost):\(server.port)",
                                      chatPassword: settings.ircPassword, threads: settings.detectorThreads)
        let web = WebLink()
        let video: RTSPServer
        do {
            video = try startVideo(settings, chat: server, detectors: detectors, mounts: mountLaunches, web: web)
        } catch {
            Terminal.error("\(error)")
            try? server.stop()
            throw ExitCode.failure
        }
        var viewerSettings = WebRTCViewers.Settings()
        viewerSettings.maxViewers = settings.maxViewers
        viewerSettings.stunServer = settings.stunServer
        viewerSettings.turnServers = settings.turnServers
        let viewers = WebRTCViewers(server: video, settings: viewerSettings)
        viewers.onKeyFrameWanted = { room in server.execute { $0.requestKeyFrame(room: room) } }
        let webServer: WebServer?
        do {
            webServer = try startWeb(settings, backend: ServeWeb(video: video, viewers: viewers, chat: server))
        } catch {
            Terminal.error("\(error)")
            video.stop()
            try? server.stop()
            throw ExitCode.failure
        }
        if let webServer {
            web.set(scheme: webServer.scheme, port: webServer.port)
            for (mount, _) in mountLaunches {
                let url = video.url(forPath: mount.path)
                _ = try? server.onLoop { $0.setTopic(room: mount.room, to: web.topic(room: mount.room, streamURL: url)) }
            }
        }
        detectors.start(rtspBase: "rtsp://\(settings.loopbackHost):\(video.port)")
        Terminal.say("chat on \(settings.tlsCert == nil ? "irc" : "ircs")://\(settings.bind):\(server.port) (history in \(settings.dataDir))")
        Terminal.say("video on \(video.scheme)://\(settings.bind):\(video.port)/ROOM (publishers RECORD, viewers PLAY"
            + (settings.publishPassword == nil ? "; anyone may publish: set --publish-password" : "; RECORD needs --publish-user/--publish-password") + ")")
        if let webServer {
            Terminal.say("browsers on \(webServer.scheme)://\(settings.bind):\(webServer.port)/ROOM (WHEP at /ROOM/whep, chat at /irc, metrics at /metrics)")
        }
        let rates = RateMeter()
        let status = StatusLine { [video, server, viewers] in
            let rooms = video.liveRooms
            let kbps = rates.perSecond(total: video.bytesReceived) * 8 / 1000
            let chatters = (try? server.onLoop { $0.connectionCount }) ?? 0
            return "live rooms \(rooms.count) · sessions \(video.sessionCount) · browsers \(viewers.count) · in \(Int(kbps)) kbit/s · chat clients \(chatters)"
        }
        let signal = StopSignal.wait()
        status.stop()
        Terminal.say("stopping (\(signal))")
        detectors.stop()
        webServer?.stop()
        viewers.stop()
        video.stop()
        try server.stop()
    }

    /// The RTSP half: rooms' topics follow their streams, detected rooms get their relays,
    /// fixed mounts are served and announced.
    /// Recordings a killed server left without their duration get it before new ones start.
    private static func repairRecordings(in directory: String) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".mkv") }.sorted()
        for name in files {
            do {
                if let seconds = try RecordingRepair.repairDuration(of: directory + "/" + name) {
                    Terminal.say("\(name) was left open by a stopped server: its duration (\(String(format: "%.1f", seconds)) s) is written")
                }
            } catch { Terminal.error("cannot repair \(name): \(error)") }
        }
    }

    /// The web server on the chat server's loop; nil (with a warning) when the default port
    /// is busy, an error when the port was asked for.
    private func startWeb(_ settings: ServeSettings, backend: ServeWeb) throws -> WebServer? {
        var files = StaticFiles()
        do { files = try StaticFiles(directory: settings.webDir) } catch {
            Terminal.warn("\(error): the viewer page is not served (set --web-dir)")
        }
        var web = WebServer.Settings()
        web.host = settings.bind
        web.port = settings.httpPort
        web.tlsCertificate = settings.tlsCert
        web.tlsKey = settings.tlsKey
        web.maxConnections = settings.maxConnections
        let server = WebServer(settings: web, routes: WebRoutes(files: files, backend: backend), group: backend.chat.eventLoopGroup)
        do { try server.start() } catch {
            let line = "cannot listen on \(settings.bind):\(settings.httpPort) for HTTP: \(error)"
            if settings.httpPortChosen { throw WebListenFailure(description: line) }
            Terminal.warn(line + "; browsers are not served (set --http-port)")
            return nil
        }
        return server
    }

    private func startVideo(_ settings: ServeSettings, chat: IRCServer, detectors: RoomDetectors,
                            mounts: [(ServeConfig.Mount, String)], web: WebLink) throws -> RTSPServer {
        var rtsp = RTSPServer.Settings()
        rtsp.address = settings.bind
        rtsp.port = settings.rtspPort
        rtsp.maxSessions = settings.maxViewers
        rtsp.publisher = settings.publishPassword.map { RTSPServer.Credentials(user: settings.publishUser, password: $0) }
        rtsp.tlsCertificate = settings.tlsCert
        rtsp.tlsKey = settings.tlsKey
        rtsp.recordDirectory = settings.recordDir
        if let recordDir = settings.recordDir { Self.repairRecordings(in: recordDir) }
        rtsp.recordedRooms = settings.recordedRooms.map(Set.init)
        rtsp.recordSegmentSeconds = settings.recordSegmentSeconds
        rtsp.recordSegmentBytes = settings.recordSegmentMegabytes * 1_000_000
        let video = try RTSPServer(settings: rtsp)
        video.onRecordingFailed = { room, reason in Terminal.error("#\(room) is not recorded: \(reason)") }
        video.onBufferDrops = { room, who, count in
            Terminal.warn("#\(room): \(who) cannot keep up; \(count) buffers dropped so far (it goes on from the next key frame)")
        }
        let recordDir = settings.recordDir, recordedRooms = settings.recordedRooms
        video.onRoomLive = { room, url in
            let recorded = recordDir != nil && (recordedRooms?.contains(room) ?? true)
            Terminal.say("#\(room) is live at \(url)" + (recorded ? " (recording to \(recordDir!))" : ""))
            chat.execute { $0.setTopic(room: room, to: web.topic(room: room, streamURL: url)) }
            detectors.roomLive(room)
        }
        video.onRoomEnded = { room in
            Terminal.say("#\(room) ended")
            chat.execute { $0.setTopic(room: room, to: nil) }
            detectors.roomEnded(room)
        }
        video.onKeyFrameWanted = { room in chat.execute { $0.requestKeyFrame(room: room) } }
        for (mount, launch) in mounts { video.mount(mount.path, launch: "( \(launch) )", shared: true) }
        try video.start()
        for (mount, _) in mounts {
            let url = video.url(forPath: mount.path)
            _ = try? chat.onLoop { $0.setTopic(room: mount.room, to: web.topic(room: mount.room, streamURL: url)) }
            Terminal.say("#\(mount.room) is served at \(url) (publish-\(mount.preset) preset)")
        }
        return video
    }

    /// A fixed mount: its publish preset with the chat of its room from this server, ending
    /// in a payloader instead of a sink.
    private func mountLaunch(_ mount: ServeConfig.Mount, settings: ServeSettings) throws -> String {
        let scheme = settings.tlsCert == nil ? "irc" : "ircs"
        let plan = PublishPlan(preset: mount.preset, input: mount.input, room: mount.room,
                               server: "\(scheme)://\(settings.loopbackHost):\(settings.ircPort)", nick: "\(mount.room)-mount",
                               detect: mount.detect, settings: mount.settings,
                               threads: mount.settings["threads"] == nil ? settings.detectorThreads : nil)
        // The preset's h264parse puts the parameter sets in band, ahead of the chat SEI.
        do { return try plan.mountDescription(presets: try location.load(), videoPayloader: "rtph264pay name=pay0 pt=96") } catch let error as PresetError {
            Terminal.error("mount \(mount.path): \(error)")
            throw ExitCode.failure
        }
    }
}

/// Where the web server listens, once it does: a live room's topic is its stream URL and,
/// when browsers are served, its page (`rtsp://HOST:8554/ROOM http://HOST:8080/ROOM`).
final class WebLink: Sendable {
    private let address = Mutex<(scheme: String, port: Int)?>(nil)

    func set(scheme: String, port: Int) { address.withLock { $0 = (scheme, port) } }

    func topic(room: String, streamURL: String) -> String {
        guard let address = address.withLock({ $0 }) else { return streamURL }
        return streamURL + " " + ServeWeb.pageURL(room: room, streamURL: streamURL, scheme: address.scheme, port: address.port)
    }
}

struct WebListenFailure: Error, CustomStringConvertible {
    let description: String
}
