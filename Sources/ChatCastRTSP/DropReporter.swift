import Foundation

/// When to say that a bounded queue dropped something: at the first drop, then at most once
/// every `interval` seconds, so a viewer or a disk that cannot keep up is reported without
/// flooding the log.
struct DropReporter: Sendable {
    var interval: UInt64 = 10_000_000_000
    private var last: UInt64 = 0
    private var hasReported = false

    mutating func isDue() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        guard !hasReported || now &- last >= interval else { return false }
        hasReported = true
        last = now
        return true
    }
}
