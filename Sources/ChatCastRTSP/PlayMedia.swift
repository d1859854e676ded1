import CGStreamer
import CGstRTSPServer
import Dispatch
import Locking

/// One viewer's media as its bridge feeds it (an RTSP PLAY media, or a browser's WebRTC
/// pipeline): its appsrcs (by track; nil where the launch lacks one), its timing
/// (`PlayGate`), and what it has yet to send. A media starts with the room's cached run (the
/// latest key frame onwards, and the sound since then), sent faster than real time but paced
/// — a whole GOP at once overflows UDP receivers and confuses jitter buffers — until it has
/// caught up with live; then every buffer goes straight in. A paused media takes nothing (no
/// backlog for a viewer who resumes); on resuming it goes on live from the next key frame
/// (which the server asks the publisher for), not from the cached run, which would put the
/// viewer behind live by its age. A viewer whose media cannot keep up loses buffers, not the
/// room: each appsrc is bounded, and the drops are reported (`AppSourceOutbox`).
///
/// The bridge decides under its lock (`start`, `offer`, `release`, `end`); what was decided
/// reaches the appsrcs through `push`, called with no lock held.
final class PlayMedia: Sendable {
    /// How much faster than real time a starting viewer catches up. At 4× rtspsrc's jitter
    /// buffer (slave mode) lost the timing of a late joiner in about one start in three
    /// (times shrinking to nothing, then none).
    static let catchUpSpeed: UInt = 2

    /// How the viewer watches (counted apart in the metrics).
    enum Kind: Sendable { case rtsp, webrtc }

    private struct State {
        var backlog: [[SharedBuffer]]
        var paceOrigin = GstClockTime.max
        var paceStart: UInt64 = 0
        var hasPlayed = false
        var paused = false

        var isCatchingUp: Bool { paceOrigin != GstClockTime.max }
    }

    let kind: Kind
    let gate = PlayGate()
    private let outbox: AppSourceOutbox
    private let state: Mutex<State>

    init(kind: Kind, sources: [SharedElement?], onDrops: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.kind = kind
        outbox = AppSourceOutbox(sources: sources, onDrops: onDrops)
        state = Mutex(State(backlog: Array(repeating: [], count: sources.count)))
    }

    var sources: [SharedElement?] { outbox.sources }
    var bytesSent: Int { outbox.bytesSent }
    var dropped: Int { outbox.dropped }
    var isCatchingUp: Bool { state.withLock { $0.isCatchingUp } }

    /// Gives `track`'s appsrc its caps, once.
    func ensureCaps(_ caps: SharedCaps?, track: Int) { outbox.enqueueCapsOnce(caps, track: track) }

    /// Starts (again) from `cached`, the room's runs by track.
    func start(with cached: [Int: [SharedBuffer]]) {
        state.withLock { s in
            s.backlog = s.backlog.indices.map { cached[$0] ?? [] }
            s.paceOrigin = s.backlog.joined().map(Self.time).min() ?? GstClockTime.max
            s.paceStart = DispatchTime.now().uptimeNanoseconds
        }
        release()
    }

    /// A new buffer of `track`.
    func offer(_ buffer: SharedBuffer, track: Int) {
        guard track < outbox.sources.count, outbox.sources[track] != nil else { return }
        let catchingUp = state.withLock { s -> Bool in
            guard s.isCatchingUp else { return false }
            s.backlog[track].append(buffer)
            return true
        }
        if catchingUp { release() } else { outbox.enqueue(.buffer(track: track, buffer)) }
    }

    /// Queues what is due by now at the catch-up pace; when nothing is left the media is live.
    func release() {
        let due = state.withLock { s -> [(Int, SharedBuffer)] in
            guard s.isCatchingUp else { return [] }
            let elapsed = (UInt(DispatchTime.now().uptimeNanoseconds) &- UInt(s.paceStart)) * Self.catchUpSpeed
            let until = s.paceOrigin &+ elapsed
            var due: [(Int, SharedBuffer)] = []
            for track in s.backlog.indices {
                let count = s.backlog[track].prefix { Self.time($0) == GstClockTime.max || Self.time($0) <= until }.count
                due += s.backlog[track].prefix(count).map { (track, $0) }
                s.backlog[track].removeFirst(count)
            }
            if s.backlog.allSatisfy(\.isEmpty) { s.paceOrigin = GstClockTime.max }
            return due
        }
        // Queued in the order decided (under the bridge's lock, so nothing offered overtakes it).
        for (track, buffer) in due { outbox.enqueue(.buffer(track: track, buffer)) }
    }

    /// Ends every track (the publisher is gone).
    func end() {
        state.withLock { s in
            s.backlog = Array(repeating: [], count: s.backlog.count)
            s.paceOrigin = GstClockTime.max
        }
        outbox.enqueue(.end)
    }

    /// Hands the appsrcs what was decided; no lock may be held.
    func push() { outbox.push(admit: admit) }

    /// Whether a buffer goes out now: not while the viewer is paused (it would be stale);
    /// on resuming, the cached run is dropped and video waits for a key frame.
    private func admit(_ track: Int, _ buffer: SharedBuffer) -> Bool {
        let playing = isPlaying
        var resumed = false
        let admitted = state.withLock { s -> Bool in
            if playing {
                s.hasPlayed = true
                if s.paused {
                    s.paused = false
                    resumed = true
                    s.backlog = Array(repeating: [], count: s.backlog.count)
                    s.paceOrigin = GstClockTime.max
                }
                return true
            }
            guard s.hasPlayed else { return true }  // not started yet: the appsrc queues it
            s.paused = true
            return false
        }
        if resumed { gate.restart() }
        return admitted
    }

    /// The media's pipeline is PLAYING (read from its first appsrc, as GStreamer locks it).
    private var isPlaying: Bool {
        guard let source = outbox.sources.lazy.compactMap({ $0 }).first else { return false }
        var current = GST_STATE_VOID_PENDING
        _ = gst_element_get_state(source.pointer, &current, nil, 0)
        return current == GST_STATE_PLAYING
    }

    /// A carried buffer's clock time: decode time when known, else presentation time.
    private static func time(_ buffer: SharedBuffer) -> GstClockTime {
        buffer.clockDTS != GstClockTime.max ? buffer.clockDTS : buffer.clockPTS
    }
}
