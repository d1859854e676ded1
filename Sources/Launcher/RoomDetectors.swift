import ChatCastPresets
import Foundation

/// Server-side detection: while a configured room is live, a `chatcast relay` child pulls it
/// from this server, detects, and publishes the result to the room's output room. A child
/// process, so that libtorch and the relay's pipeline cannot take the server down, and the
/// server's own memory stays that of the server.
final class RoomDetectors: @unchecked Sendable {  // its mutable state is touched only on `queue` (a serial queue)
    private let rooms: [String: ServeConfig.DetectedRoom]
    private let options: [String]
    /// The publisher password, for the children's environment (never their command line).
    private let password: String?
    /// The chat server's password, likewise.
    private let chatPassword: String?
    /// How the children reach this server's chat, irc(s)://HOST:PORT: each stamps its room's
    /// live chat into the output (a publisher such as ffmpeg carries none of its own).
    private let chatServer: String
    /// Torch threads of each relay, unless its room sets them.
    private let threads: Int
    private let queue = DispatchQueue(label: "chatcast.room-detectors")
    // Queue-confined.
    private var running: [String: Process] = [:]
    private var live: Set<String> = []
    /// Relays that ended while their room was live, per room (the backoff before the next).
    private var failures: [String: Int] = [:]
    private var stopping = false
    /// How the children reach this server, rtsp://HOST:PORT; nil until it listens.
    private var rtspBase: String?

    init(rooms: [ServeConfig.DetectedRoom], user: String, password: String?, presetDirectory: String?, chatServer: String,
         chatPassword: String?, threads: Int) {
        self.rooms = Dictionary(rooms.map { ($0.room.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        var options: [String] = []
        if let presetDirectory { options += ["--dir", presetDirectory] }
        if password != nil { options += ["--user", user] }
        self.options = options
        self.password = password
        self.chatServer = chatServer
        self.chatPassword = chatPassword
        self.threads = threads
    }

    /// Relays start from now on (and for rooms that went live before).
    func start(rtspBase: String) {
        queue.async {
            self.rtspBase = rtspBase
            for key in self.live { self.startIfWanted(key) }
        }
    }

    private func arguments(_ room: ServeConfig.DetectedRoom, base: String) -> [String] {
        var arguments = ["relay", "--from", "\(base)/\(room.room)", "--to", "\(base)/\(room.output)", "--room", room.room,
                         "--server", chatServer, "--nick", "\(room.room.prefix(20))-detector"] + options
        if let model = room.model { arguments += ["--model", model] }
        for (key, value) in room.settings.sorted(by: { $0.key < $1.key }) { arguments += ["--set", "\(key)=\(value)"] }
        if room.settings["threads"] == nil { arguments += ["--threads", String(threads)] }
        return arguments
    }

    func roomLive(_ room: String) {
        queue.async {
            self.live.insert(room.lowercased())
            self.startIfWanted(room.lowercased())
        }
    }

    /// The relay's source ends with the room; one that has not left 5 s later is stopped.
    func roomEnded(_ room: String) {
        queue.async {
            let key = room.lowercased()
            self.live.remove(key)
            self.failures[key] = nil
            guard let process = self.running[key] else { return }
            self.queue.asyncAfter(deadline: .now() + 5) {
                if !self.live.contains(key), process.isRunning { process.terminate() }
            }
        }
    }

    /// Stops every relay (SIGTERM, SIGKILL after 5 s) and waits for them.
    func stop() {
        let processes: [Process] = queue.sync {
            stopping = true
            return Array(running.values)
        }
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(5)
        for process in processes {
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    private func startIfWanted(_ key: String) {
        guard !stopping, live.contains(key), running[key] == nil, let room = rooms[key], let base = rtspBase else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments(room, base: base)
        var environment = ProcessInfo.processInfo.environment
        environment[EnvironmentPassword.publisher.rawValue] = password
        environment[EnvironmentPassword.irc.rawValue] = chatPassword
        process.environment = environment
        process.terminationHandler = { [weak self] ended in
            guard let self else { return }
            self.queue.async {
                guard self.running[key] === ended else { return }
                self.running[key] = nil
                let status = ended.terminationStatus
                // A room still live lost its relay (an error): try again, backing off.
                if self.live.contains(key), !self.stopping {
                    let failures = (self.failures[key] ?? 0) + 1
                    self.failures[key] = failures
                    let delay = min(60, 2 << min(failures - 1, 5))
                    Terminal.say("detection of #\(room.room) stopped (status \(status)); restarting in \(delay) s")
                    self.queue.asyncAfter(deadline: .now() + .seconds(delay)) { self.startIfWanted(key) }
                }
            }
        }
        do {
            try process.run()
            running[key] = process
            let torchThreads = room.settings["threads"] ?? String(threads)
            Terminal.say("detecting #\(room.room) → #\(room.output) with \(torchThreads) torch thread\(torchThreads == "1" ? "" : "s") "
                         + "(relay pid \(process.processIdentifier))")
        } catch {
            Terminal.error("cannot start the relay of #\(room.room): \(error)")
        }
    }
}
