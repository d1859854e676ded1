import ArgumentParser
import ChatCastPresets
import ChatIRCServer
import Foundation

/// What `chatcast serve` runs with: each value from its flag, else from `--config`, else
/// the default (passwords: flag, environment, file) — checked once, wherever it came from.
struct ServeSettings {
    var bind = "127.0.0.1"
    var rtspPort = 8554
    var ircPort = 6667
    /// The web viewer, WHEP, /metrics and IRC over WebSocket.
    var httpPort = 8080
    /// Whether the port was asked for (then a busy port is an error, not a warning).
    var httpPortChosen = false
    var webDir = ServeSettings.defaultWebDir()
    var stunServer: String?
    var turnServers: [String] = []
    var dataDir = ServeSettings.defaultDataDir()
    var ircPassword: String?
    var publishUser = "publisher"
    var publishPassword: String?
    var maxViewers = 64
    var maxConnections = 2000
    var serverName = ServeSettings.hostName()
    /// Chat server operators (OPER): name → password or `sha256$…` hash.
    var operators: [String: String] = [:]
    var rateBurst = 20
    var ratePeriodSeconds = 30
    var tlsCert: String?
    var tlsKey: String?
    var recordDir: String?
    var recordSegmentSeconds = 3600
    var recordSegmentMegabytes = 0
    /// Rooms recorded (nil: all of them, when there is a record directory).
    var recordedRooms: [String]?
    /// Chat history kept per room (0: no limit of that kind).
    var historyDays = 30
    var historyMaxMessages = 10_000
    var historyRetention: HistoryRetention {
        HistoryRetention(maxAgeDays: historyDays == 0 ? nil : historyDays,
                         maxMessagesPerRoom: historyMaxMessages == 0 ? nil : historyMaxMessages)
    }
    var detectedRooms: [ServeConfig.DetectedRoom] = []
    var mounts: [ServeConfig.Mount] = []
    /// Torch threads of each detector the server runs, the cores shared out among them.
    var detectorThreads: Int {
        ServeConfig.detectorThreads(cores: ProcessInfo.processInfo.activeProcessorCount,
                                    detectors: detectedRooms.count + mounts.filter(\.detect).count)
    }

    init(flags: Serve, file: ServeConfig?) throws {
        let from = file?.settings ?? [:]
        func text(_ flag: String?, _ key: String) -> String? { flag ?? from[key] }
        // Passwords may also come from the environment, which other local users cannot read
        // (a command line they can, in `ps`): flag, then environment, then file.
        func secret(_ flag: String?, _ variable: EnvironmentPassword, _ key: String) -> String? {
            variable.resolve(flag) ?? from[key]
        }
        func number(_ flag: Int?, _ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            if let flag { return flag }
            guard let value = from[key] else { return nil }
            guard let n = Int(value), range.contains(n) else {
                throw ValidationError("\(file!.file): \(key) must be a whole number in \(range.lowerBound)...\(range.upperBound), not \(value)")
            }
            return n
        }
        bind = text(flags.bind, "bind") ?? bind
        rtspPort = try number(flags.rtspPort, "rtsp-port", 0...65535) ?? rtspPort
        ircPort = try number(flags.ircPort, "irc-port", 0...65535) ?? ircPort
        if let port = try number(flags.httpPort, "http-port", 0...65535) {
            httpPort = port
            httpPortChosen = true
        }
        webDir = text(flags.webDir, "web-dir") ?? webDir
        stunServer = text(flags.stun, "stun")
        if let stunServer, !stunServer.hasPrefix("stun://") { throw ValidationError("stun must be a stun://HOST:PORT address, not \(stunServer)") }
        turnServers = flags.turn.isEmpty ? (from["turn"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []) : flags.turn
        for turn in turnServers where !(turn.hasPrefix("turn://") || turn.hasPrefix("turns://")) {
            throw ValidationError("turn must be a turn(s)://USER:PASSWORD@HOST:PORT address, not \(turn)")
        }
        dataDir = text(flags.dataDir, "data-dir") ?? dataDir
        ircPassword = secret(flags.ircPassword, .irc, "irc-password")
        publishUser = text(flags.publishUser, "publish-user") ?? publishUser
        publishPassword = secret(flags.publishPassword, .publisher, "publish-password")
        maxViewers = try number(flags.maxViewers, "max-viewers", 1...100_000) ?? maxViewers
        maxConnections = try number(flags.maxConnections, "max-connections", 1...1_000_000) ?? maxConnections
        serverName = text(flags.serverName, "server-name") ?? serverName
        // A server name is one IRC word with a dot or letters: what replies start with.
        guard serverName.utf8.count <= 63, !serverName.isEmpty,
              serverName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
            throw ValidationError("server-name must be a host-like name (letters, digits, . - _; at most 63), not \(serverName)")
        }
        operators = file?.operators ?? [:]
        tlsCert = text(flags.tlsCert, "tls-cert")
        tlsKey = text(flags.tlsKey, "tls-key")
        if let rate = text(flags.rateLimit, "rate-limit") {
            let parts = rate.split(separator: "/")
            guard parts.count == 2, let burst = Int(parts[0]), let seconds = Int(parts[1]), burst > 0, seconds > 0 else {
                throw ValidationError("rate-limit must look like 20/30 (messages/seconds), not \(rate)")
            }
            (rateBurst, ratePeriodSeconds) = (burst, seconds)
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        for path in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("\(path): not a readable file")
        }
        recordDir = text(flags.recordDir, "record-dir")
        recordSegmentSeconds = try number(flags.recordSegmentSeconds, "record-segment-seconds", 1...604_800) ?? recordSegmentSeconds
        recordSegmentMegabytes = try number(flags.recordSegmentMegabytes, "record-segment-megabytes", 0...1_000_000) ?? recordSegmentMegabytes
        if flags.recordDir == nil, let rooms = file?.recordedRooms, !rooms.isEmpty {
            // `record: true` rooms of the file, without --record-dir: just those.
            recordedRooms = rooms
            recordDir = recordDir ?? dataDir + "/recordings"
        }
        historyDays = try number(flags.historyDays, "history-days", 0...36_500) ?? historyDays
        historyMaxMessages = try number(flags.historyMaxMessages, "history-max-messages", 0...100_000_000) ?? historyMaxMessages
        detectedRooms = file?.detectedRooms ?? []
        mounts = file?.mounts ?? []
        if tlsCert != nil && !detectedRooms.isEmpty {
            // The relay would have to trust the server's own certificate; rtspsrc cannot be
            // given one from a launch line.
            throw ValidationError("server-side detection (rooms: … detect) runs over plain RTSP only; drop --tls-cert or the detection")
        }
    }

    /// This host's name, the default server name (as ngircd and InspIRCd take it).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "chatcast.local" }
        let name = String(cString: buffer)
        return name.isEmpty ? "chatcast.local" : name
    }

    /// The viewer's files: $CHATCAST_WEB, ./web, beside an installed binary, beside a built
    /// one, then /usr/share (as presets are found).
    static func defaultWebDir() -> String {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CHATCAST_WEB"], !env.isEmpty { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/web")
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../share/chatcast/web").standardized.path)
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../../../web").standardized.path)
        candidates.append("/usr/share/chatcast/web")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/viewer.html") } ?? candidates[0]
    }

    static func defaultDataDir() -> String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return base + "/chatcast"
    }

    /// How this process reaches its own RTSP server (the relays of detected rooms).
    var loopbackHost: String {
        switch bind {
        case "0.0.0.0", "", "::": return "127.0.0.1"
        default: return bind.contains(":") ? "[\(bind)]" : bind
        }
    }
}
