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
        FileHandle.standardError.write(Data(("chatcast: " + line + "\n").utf8))
    }

    static func error(_ line: String) { say(line) }
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
