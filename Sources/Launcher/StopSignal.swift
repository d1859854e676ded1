import Foundation
import Locking

/// SIGINT and SIGTERM as a one-shot latch: once armed, the first of them is remembered and
/// every `wait`, before or after it, returns its name; handlers added with `onStop` run once
/// it comes (at once if it came already) unless removed first. Armed before anything
/// listens, so a signal during start-up still ends the process cleanly instead of killing it.
enum StopSignal {
    private struct State {
        var name: String?
        var handlers: [Int: @Sendable (String) -> Void] = [:]
        var nextHandler = 0
    }

    private final class Latch: Sendable {
        let state = Mutex(State())
        /// Kept for the life of the process: a cancelled source would stop catching.
        private let sources: [SignalSource]

        init() {
            var sources: [SignalSource] = []
            for (number, label) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                signal(number, SIG_IGN)
                sources.append(SignalSource(number) { Latch.shared.fire(label) })
            }
            self.sources = sources
        }

        static let shared = Latch()

        func fire(_ label: String) {
            let due = state.withLock { s -> [@Sendable (String) -> Void] in
                guard s.name == nil else { return [] }
                s.name = label
                defer { s.handlers = [:] }
                return s.handlers.sorted { $0.key < $1.key }.map(\.value)
            }
            due.forEach { $0(label) }
        }
    }

    /// Starts catching the signals (idempotent).
    static func arm() { _ = Latch.shared }

    /// Runs `handler` (on another thread) when SIGINT or SIGTERM comes, or now if one came.
    /// The token removes it (`remove`), so nothing it holds outlives its use.
    @discardableResult
    static func onStop(_ handler: @escaping @Sendable (String) -> Void) -> Int {
        let (token, already) = Latch.shared.state.withLock { s -> (Int, String?) in
            if let name = s.name { return (-1, name) }
            s.nextHandler += 1
            s.handlers[s.nextHandler] = handler
            return (s.nextHandler, nil)
        }
        if let already { handler(already) }
        return token
    }

    static func remove(_ token: Int) {
        _ = Latch.shared.state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Blocks until SIGINT or SIGTERM has come, and says which.
    static func wait() -> String {
        let done = DispatchSemaphore(value: 0)
        let name = Mutex<String?>(nil)
        onStop { label in
            name.withLock { $0 = label }
            done.signal()
        }
        done.wait()
        return name.withLock { $0 } ?? "SIGTERM"
    }
}

/// A signal delivered to a handler on a dispatch queue (the process ignores its default action).
private final class SignalSource: @unchecked Sendable {  // DispatchSource is thread-safe; it is only resumed, once
    private let source: DispatchSourceSignal

    init(_ number: Int32, handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
    }
}
