#if canImport(Glibc)
import Glibc
#endif
import Locking

/// Counts what a bounded queue drops and says so on the bus: a warning message at the
/// first drop and then at most one per `interval` seconds with the running total, so a
/// flood is reported without flooding the bus.
public final class DropCounter: Sendable {
    private struct State {
        var total: UInt64 = 0
        var lastWarning: Double = -.infinity
    }
    private let state = Mutex(State())
    private let what: String
    private let interval: Double

    /// `what` names the queue and its policy, e.g. "chatinject's backlog is full (1000
    /// messages): the oldest message was dropped".
    public init(what: String, interval: Double = 10) {
        self.what = what
        self.interval = interval
    }

    public var total: UInt64 { state.withLock { $0.total } }

    public func reset() { state.withLock { $0 = State() } }

    /// Records `count` drops; posts a warning on `element`'s bus when one is due.
    public func dropped(_ count: Int = 1, element: ElementRef, property: String? = nil) {
        guard count > 0 else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let now = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        let warnTotal = state.withLock { s -> UInt64? in
            s.total &+= UInt64(count)
            guard now - s.lastWarning >= interval else { return nil }
            s.lastWarning = now
            return s.total
        }
        if let property { element.notify(property) }
        guard let warnTotal else { return }
        element.post(.failed("\(what) (\(warnTotal) dropped so far)"), warning: true)
    }
}
