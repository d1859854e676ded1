/// Mean over every sample and 95th percentile over the most recent ones, in milliseconds.
public struct LatencyStats: Sendable {
    public static let window = 512
    private var recent: [Double] = []
    private var next = 0
    public private(set) var count: UInt64 = 0
    private var sum = 0.0

    public init() { recent.reserveCapacity(LatencyStats.window) }

    public mutating func add(_ milliseconds: Double) {
        count += 1
        sum += milliseconds
        if recent.count < LatencyStats.window {
            recent.append(milliseconds)
        } else {
            recent[next] = milliseconds
            next = (next + 1) % LatencyStats.window
        }
    }

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Nearest-rank percentile of the recent window.
    public var p95: Double {
        guard !recent.isEmpty else { return 0 }
        let sorted = recent.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(rank, sorted.count - 1))]
    }
}
