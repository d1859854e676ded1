import Foundation
import Logging

/// Output shared by the long-running commands: one line at a time, whole, from any thread.
enum Terminal {
    private static let lock = NSLock()

    static func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The launcher's log (swift-log, through `TerminalLogHandler`).
    static let log: Logger = {
        LoggingSystem.bootstrap(TerminalLogHandler.init)
        return Logger(label: "chatcast")
    }()

    static func say(_ line: String) { log.info("\(line)") }

    static func warn(_ line: String) { log.warning("\(line)") }

    static func error(_ line: String) { log.error("\(line)") }

    /// A whole line on stderr; on a terminal, a status line may be drawn where it starts.
    static func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        let clear = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((clear + line + "\n").utf8))
    }

    /// Rewrites the current stderr line (a status line on a terminal); nil clears it.
    static func redraw(_ line: String?) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + (line ?? "")).utf8))
    }
}
