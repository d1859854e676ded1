import Foundation

/// Output shared by the long-running commands: one line at a time, whole, from any thread.
enum Terminal {
    private static let lock = NSLock()

    static func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func say(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        // On a terminal, a status line may be drawn where this line starts.
        let clear = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((clear + "chatcast: " + line + "\n").utf8))
    }

    static func error(_ line: String) { say(line) }

    /// Rewrites the current stderr line (a status line on a terminal); nil clears it.
    static func redraw(_ line: String?) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + (line ?? "")).utf8))
    }
}

/// Blocks until SIGINT or SIGTERM, and says which.
enum StopSignal {
    static func wait() -> String {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var name = ""
        var sources: [DispatchSourceSignal] = []
        for (number, label) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                name = label
                done.signal()
            }
            source.resume()
            sources.append(source)
        }
        done.wait()
        sources.forEach { $0.cancel() }
        return name
    }
}
