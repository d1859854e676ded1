/// Frames and bytes per second over the last few seconds: a sample a second at most, the
/// rate taken between the oldest kept and now, so one late frame moves it little.
struct RateWindow: Sendable {
    static let span: UInt64 = 5_000_000_000
    private var samples: [(time: UInt64, frames: Int, bytes: Int)] = []
    private var frames = 0
    private var bytes = 0

    mutating func add(bytes size: Int, frames count: Int, now: UInt64) {
        bytes += size
        frames += count
        if let last = samples.last, now - last.time < 1_000_000_000 { return }
        samples.append((now, frames, bytes))
        while let first = samples.first, now - first.time > Self.span, samples.count > 2 { samples.removeFirst() }
    }

    func frameRate(now: UInt64) -> Double { rate(now: now) { Double($0.frames) } }

    /// Bits per second.
    func bitRate(now: UInt64) -> Double { rate(now: now) { Double($0.bytes) * 8 } }

    private func rate(now: UInt64, _ value: ((time: UInt64, frames: Int, bytes: Int)) -> Double) -> Double {
        guard let first = samples.first, now > first.time, now - (samples.last?.time ?? 0) < Self.span else { return 0 }
        let current = (time: now, frames: frames, bytes: bytes)
        return (value(current) - value(first)) / (Double(now - first.time) / 1e9)
    }
}
