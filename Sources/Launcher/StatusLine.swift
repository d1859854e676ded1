import Foundation
import Locking

/// The long-running commands' status line (fps, bitrate, viewers, chat messages): redrawn in
/// place on a terminal, one plain line per period otherwise (logs, pipes, tests).
final class StatusLine: @unchecked Sendable {  // the timer is set up in init and only cancelled afterwards (DispatchSource is thread-safe)
    private let timer: DispatchSourceTimer
    private let inPlace = isatty(STDERR_FILENO) == 1

    /// `render` is asked for the line once per `period`.
    init(period: TimeInterval = 2, render: @escaping @Sendable () -> String) {
        timer = DispatchSource.makeTimerSource(queue: .global())
        let inPlace = self.inPlace
        timer.schedule(deadline: .now() + period, repeating: period)
        timer.setEventHandler {
            let line = render()
            if inPlace { Terminal.redraw("chatcast: " + line) } else { Terminal.say(line) }
        }
        timer.resume()
    }

    func stop() {
        timer.cancel()
        if inPlace { Terminal.redraw(nil) }
    }
}

/// Per-second rates from running totals.
final class RateMeter: Sendable {
    private let last = Mutex<(time: TimeInterval, count: Int)?>(nil)

    func perSecond(total: Int, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Double {
        let previous = last.withLock { l in
            defer { l = (now, total) }
            return l
        }
        // A total that went down (a room forgotten with its counts) starts the rate again.
        guard let previous, now > previous.time, total >= previous.count else { return 0 }
        return Double(total - previous.count) / (now - previous.time)
    }
}
