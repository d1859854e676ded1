import CGStreamer
import CGstRTSPServer
import Foundation

/// One viewer's media as its bridge feeds it (an RTSP PLAY media, or a browser's WebRTC
/// pipeline): its appsrcs (by track; nil where the
/// launch lacks one), its timing (`PlayGate`), and what it has yet to send. A media starts
/// with the room's cached run (the latest key frame onwards, and the sound since then), sent
/// faster than real time but paced — a whole GOP at once overflows UDP receivers and
/// confuses jitter buffers — until it has caught up with live; then every buffer goes
/// straight in. A paused media takes nothing (no backlog for a viewer who resumes); on
/// resuming it goes on live from the next key frame (which the server asks the publisher
/// for), not from the cached run, which would put the viewer behind live by its age. A
/// viewer whose media cannot keep up loses buffers, not the room: each appsrc is bounded
/// (`AppSourceBound`), and the drops are reported (the first, then at most every 10 s).
/// Guarded by its bridge's lock.
final class PlayMedia {
    typealias Buffer = UnsafeMutablePointer<GstBuffer>

    /// How much faster than real time a starting viewer catches up. At 4× rtspsrc's jitter
    /// buffer (slave mode) lost the timing of a late joiner in about one start in three
    /// (times shrinking to nothing, then none).
    static let catchUpSpeed: UInt = 2

    /// How the viewer watches (counted apart in the metrics).
    enum Kind: Sendable { case rtsp, webrtc }

    let kind: Kind
    let sources: [RoomBridge.Element?]
    let gate = PlayGate()
    private var hasPlayed = false
    private var paused = false
    private var backlog: [[Buffer]]
    private var paceOrigin = GstClockTime.max
    private var paceStart: UInt64 = 0
    private var hasCaps: [Bool]
    private var bounds: [AppSourceBound]
    private var reporter = DropReporter()
    /// Called with the buffers this viewer has lost so far.
    private let onDrops: (Int) -> Void

    /// Bytes handed to this viewer's appsrcs.
    private(set) var bytesSent = 0

    init(kind: Kind, sources: [RoomBridge.Element?], onDrops: @escaping (Int) -> Void = { _ in }) {
        self.kind = kind
        self.sources = sources
        self.onDrops = onDrops
        backlog = Array(repeating: [], count: sources.count)
        hasCaps = Array(repeating: false, count: sources.count)
        bounds = Array(repeating: AppSourceBound(), count: sources.count)
    }

    var dropped: Int { bounds.reduce(0) { $0 + $1.dropped } }

    deinit { backlog.joined().forEach(Self.unref) }

    var isCatchingUp: Bool { paceOrigin != GstClockTime.max }

    /// Gives `track`'s appsrc its caps, once: a track (the sound) may first arrive after the
    /// media was made.
    func ensureCaps(_ caps: UnsafeMutablePointer<GstCaps>?, track: Int) {
        guard track < sources.count, !hasCaps[track], let caps, let source = sources[track] else { return }
        source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_set_caps($0, caps) }
        hasCaps[track] = true
    }

    /// Starts (again) from `cached`, the room's runs by track (buffers are referenced here).
    func start(with cached: [Int: [Buffer]]) {
        backlog.joined().forEach(Self.unref)
        backlog = sources.indices.map { track in (cached[track] ?? []).map { gst_buffer_ref($0)! } }
        paceOrigin = backlog.joined().map(Self.time).min() ?? GstClockTime.max
        paceStart = DispatchTime.now().uptimeNanoseconds
        release()
    }

    /// A new buffer of `track`.
    func offer(_ buffer: Buffer, track: Int) {
        guard track < sources.count, sources[track] != nil else { return }
        let playing = sources.lazy.compactMap { $0 }.first.map { $0.pointee.current_state == GST_STATE_PLAYING } ?? false
        if playing {
            hasPlayed = true
            if paused {
                paused = false
                gate.restart()
                start(with: [:])
            }
        } else if hasPlayed {
            paused = true
            return
        }
        if isCatchingUp {
            backlog[track].append(gst_buffer_ref(buffer))
            release()
        } else {
            push(gst_buffer_ref(buffer), track: track)
        }
    }

    /// Hands the appsrcs what is due by now at the catch-up pace; when nothing is left the
    /// media is live.
    func release() {
        guard isCatchingUp else { return }
        let elapsed = (UInt(DispatchTime.now().uptimeNanoseconds) &- UInt(paceStart)) * Self.catchUpSpeed
        let due = paceOrigin &+ elapsed
        for track in backlog.indices {
            var sent = 0
            for buffer in backlog[track] {
                let time = Self.time(buffer)
                guard time == GstClockTime.max || time <= due else { break }
                push(buffer, track: track)
                sent += 1
            }
            backlog[track].removeFirst(sent)
        }
        if backlog.allSatisfy(\.isEmpty) { paceOrigin = GstClockTime.max }
    }

    /// Ends every track (the publisher is gone).
    func end() {
        backlog.joined().forEach(Self.unref)
        backlog = Array(repeating: [], count: sources.count)
        paceOrigin = GstClockTime.max
        for source in sources.compactMap({ $0 }) {
            source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_end_of_stream($0) }
        }
    }

    /// Takes the reference.
    private func push(_ buffer: Buffer, track: Int) {
        guard let source = sources[track] else { return Self.unref(buffer) }
        let size = Int(gst_buffer_get_size(buffer))
        if bounds[track].push(buffer, into: source) {
            bytesSent += size
        } else if reporter.isDue() {
            onDrops(dropped)
        }
    }

    /// A carried buffer's clock time: decode time when known, else presentation time.
    private static func time(_ buffer: Buffer) -> GstClockTime {
        buffer.pointee.offset_end != GstClockTime.max ? buffer.pointee.offset_end : buffer.pointee.offset
    }

    private static func unref(_ buffer: Buffer) {
        gst_mini_object_unref(UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: GstMiniObject.self))
    }
}
