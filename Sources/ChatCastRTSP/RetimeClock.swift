import CGStreamer

/// One PLAY appsrc's clock times → running times, strictly increasing. Used only from that
/// appsrc's streaming thread.
public final class RetimeClock {
    public static let none = GstClockTime.max
    public static let step: GstClockTime = 1_000_000
    private var base = none
    private var lastPTS = none

    public init() {}

    public func running(pts clockPTS: GstClockTime, dts clockDTS: GstClockTime, base: GstClockTime) -> (GstClockTime, GstClockTime) {
        if base != self.base {  // a new run of the pipeline starts from zero again
            self.base = base
            lastPTS = Self.none
        }
        func running(_ clock: GstClockTime) -> GstClockTime {
            clock == Self.none ? Self.none : (clock > base ? clock - base : 0)
        }
        var pts = running(clockPTS)
        var dts = running(clockDTS)
        guard pts != Self.none else { return (pts, dts) }
        if lastPTS != Self.none && pts < lastPTS &+ Self.step {
            let raised = lastPTS &+ Self.step
            if dts != Self.none { dts = min(dts &+ (raised - pts), raised) }
            pts = raised
        }
        lastPTS = pts
        return (pts, dts)
    }
}
