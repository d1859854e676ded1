import Dispatch

/// A dispatch timer that may be kept in a lock and cancelled from any thread.
final class RepeatingTimer: @unchecked Sendable {  // DispatchSource's resume and cancel are thread-safe
    private let source: DispatchSourceTimer

    /// Starts ticking `handler` on `queue` every `interval`, the first time at once.
    init(queue: DispatchQueue, every interval: DispatchTimeInterval, handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now(), repeating: interval)
        source.setEventHandler(handler: handler)
        source.resume()
    }

    /// No tick starts after this; one already running finishes.
    func cancel() { source.cancel() }
}
