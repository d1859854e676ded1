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

func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func waitForPort(_ port: Int, timeout: TimeInterval = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        close(fd)
        if ok { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
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
        process.arguments = ["serve", "--irc-port", String(port), "--data-dir", self.dataDir] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForPort(port) else { throw XCTSkip("chatcast serve did not listen on \(port)") }
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
