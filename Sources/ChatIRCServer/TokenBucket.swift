import NIOCore

/// `capacity` tokens refilled evenly over `period`: a burst of `capacity` messages, then
/// one per `period / capacity`.
struct TokenBucket {
    let capacity: Double
    let refillPerNanosecond: Double
    private var tokens: Double
    private var last: NIODeadline

    init(capacity: Int, period: TimeAmount, now: NIODeadline) {
        self.capacity = Double(capacity)
        refillPerNanosecond = Double(capacity) / Double(max(1, period.nanoseconds))
        tokens = Double(capacity)
        last = now
    }

    mutating func take(now: NIODeadline) -> Bool {
        let elapsed = Double(max(0, (now - last).nanoseconds))
        tokens = min(capacity, tokens + elapsed * refillPerNanosecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
