import Foundation

/// SIGINT and SIGTERM as a one-shot latch: once armed, the first of them is remembered and
/// every `wait`, before or after it, returns its name. Armed before anything listens, so a
/// signal during start-up still ends the process cleanly instead of killing it.
enum StopSignal {
    private final class Latch: @unchecked Sendable {
        let lock = NSLock()
        var name: String?
        var waiters: [DispatchSemaphore] = []
        var sources: [DispatchSourceSignal] = []

        init() {
            for (number, label) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [unowned self] in self.fire(label) }
                source.resume()
                sources.append(source)
            }
        }

        func fire(_ label: String) {
            let woken: [DispatchSemaphore] = lock.withLock {
                if name == nil { name = label }
                defer { waiters = [] }
                return waiters
            }
            woken.forEach { $0.signal() }
        }
    }

    private static let latch = Latch()

    /// Starts catching the signals (idempotent).
    static func arm() { _ = latch }

    /// Blocks until SIGINT or SIGTERM has come, and says which.
    static func wait() -> String {
        let done = DispatchSemaphore(value: 0)
        let already: String? = latch.lock.withLock {
            if let name = latch.name { return name }
            latch.waiters.append(done)
            return nil
        }
        if let already { return already }
        done.wait()
        return latch.lock.withLock { latch.name ?? "SIGTERM" }
    }
}
