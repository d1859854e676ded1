import Locking

/// One viewer's PLAY media: clock times become its running times by a plain shift (PTS and
/// DTS alike, so B-frame order and the distance between audio and video stay as the
/// publisher sent them), and its video starts, and starts again after a pause, at a key
/// frame that follows everything it already sent, so no frame arrives without its
/// references and no time steps back. Used from the media's streaming threads.
public final class PlayGate: Sendable {
    public typealias Time = UInt  // GstClockTime on 64-bit Linux
    public static let none = Time.max

    private struct State {
        var open = false
        var lastVideoPTS = PlayGate.none
        var lastAudioPTS = PlayGate.none
    }
    private let state = Mutex(State())

    public init() {}

    public var isOpen: Bool { state.withLock { $0.open } }

    /// Video waits for a key frame again (the viewer paused; what was queued meanwhile is stale).
    public func restart() { state.withLock { $0.open = false } }

    /// A video access unit: its running times, or nil to drop it.
    public func video(pts: Time, dts: Time, isKey: Bool, base: Time) -> (pts: Time, dts: Time)? {
        let runningPTS = Self.running(pts, base: base)
        let runningDTS = Self.running(dts, base: base)
        return state.withLock { s in
            guard let runningPTS, let runningDTS else {
                s.open = false  // its successors would miss it as a reference
                return nil
            }
            if !s.open {
                // A key frame is displayed after every frame before it (closed GOP), so its PTS
                // must pass all that was sent.
                guard isKey, s.lastVideoPTS == Self.none || (runningPTS != Self.none && runningPTS > s.lastVideoPTS) else { return nil }
                s.open = true
            }
            if runningPTS != Self.none && (s.lastVideoPTS == Self.none || runningPTS > s.lastVideoPTS) { s.lastVideoPTS = runningPTS }
            return (runningPTS, runningDTS)
        }
    }

    /// An audio buffer: its running times, or nil when it would not follow the last one sent.
    public func audio(pts: Time, dts: Time, base: Time) -> (pts: Time, dts: Time)? {
        guard let runningPTS = Self.running(pts, base: base), runningPTS != Self.none else { return nil }
        return state.withLock { s in
            guard s.lastAudioPTS == Self.none || runningPTS > s.lastAudioPTS else { return nil }
            s.lastAudioPTS = runningPTS
            return (runningPTS, Self.running(dts, base: base) ?? Self.none)
        }
    }

    /// `clock` − `base`; nil for a time before `base`; none stays none.
    private static func running(_ clock: Time, base: Time) -> Time? {
        if clock == none { return none }
        return clock >= base ? clock - base : nil
    }
}
