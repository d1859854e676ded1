import Foundation
import ProcessSupport
import XCTest

enum Paths {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let interop = repo.appendingPathComponent("Tests/interop").path
    static let plugins = repo.appendingPathComponent("build/gst-plugins").path
    static var chatcast: String {
        for config in ["release", "debug"] {
            let path = repo.appendingPathComponent(".build/\(config)/chatcast").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "chatcast"
    }
}

typealias Output = ProcessOutput

/// Runs a program to its end (terminated after `timeout`), feeding `input` on stdin.
func runProgram(_ program: String, _ arguments: [String], input: String? = nil, timeout: TimeInterval = 60,
                environment: [String: String] = [:]) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    return try runToEnd(process, input: input, timeout: timeout)
}

/// `chatcast serve` in the background on a free port, stopped by `stop()` (SIGTERM) or `kill()`.
final class ServeProcess {
    let port: Int
    let dataDir: String
    let process = Process()

    init(dataDir: String? = nil, extra: [String] = []) throws {
        port = freePort()
        self.dataDir = dataDir ?? NSTemporaryDirectory() + "chatcast-serve-\(UUID().uuidString)"
        process.executableURL = URL(fileURLWithPath: Paths.chatcast)
        process.arguments = ["serve", "--irc-port", String(port), "--rtsp-port", "0", "--data-dir", self.dataDir] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForPort(port) else { throw SetupFailure("chatcast serve did not listen on \(port)") }
    }

    var address: String { "irc://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    var residentKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    func kill9() {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}

func chat(_ server: String, nick: String, room: String = "lobby", input: String, extra: [String] = []) throws -> Output {
    try runProgram(Paths.chatcast, ["chat", "--server", server, "--room", room, "--nick", nick] + extra, input: input, timeout: 30)
}

/// weechat-headless as `wee` on the server `ours` at loopback PORT, joined to ROOM and
/// logging it under HOME/logs, then running `then` (weechat commands, `;`-separated).
func startWeechat(home: String, port: Int, room: String, then commands: String) throws -> Process {
    let weechat = Process()
    weechat.executableURL = URL(fileURLWithPath: "/usr/bin/weechat-headless")
    weechat.arguments = ["--dir", home, "-r",
                         "/set irc.server_default.tls off; /server add ours 127.0.0.1/\(port); "
                             + "/set irc.server.ours.nicks wee; /set irc.server.ours.autojoin \(room); "
                             + "/set logger.file.auto_log on; /set logger.file.flush_delay 0; /connect ours; " + commands]
    weechat.standardOutput = FileHandle.nullDevice
    weechat.standardError = FileHandle.nullDevice
    weechat.standardInput = FileHandle.nullDevice
    try weechat.run()
    return weechat
}
