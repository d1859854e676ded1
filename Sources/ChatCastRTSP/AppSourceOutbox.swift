import CGStreamer
import CGstRTSPServer
import Locking

/// What a bridge hands one of its consumers' appsrcs.
enum Outgoing: Sendable {
    case buffer(track: Int, SharedBuffer)
    case caps(track: Int, SharedCaps)
    /// End of stream on every track.
    case end
}

/// A consumer's appsrcs (a viewer's media, a recording), fed in order without a lock held
/// while GStreamer is called: what goes in, and in which order, is decided under the
/// owner's lock and queued here (`enqueue`); after that lock is let go, `push` hands it to
/// the appsrcs. Whichever thread finds nobody pushing pushes everything queued, its own and
/// what others queued meanwhile, so the order stays the order of `enqueue`, and one thread at
/// a time talks to the appsrcs. Each appsrc stays within its `max-bytes` (`AppSourceBound`);
/// what does not fit is dropped, counted and reported (the first time, then every 10 s).
final class AppSourceOutbox: Sendable {
    /// What only the pushing thread uses; parked here between pushes.
    private struct Pusher: Sendable {
        var bounds: [AppSourceBound]
        var reporter = DropReporter()
        var bytes = 0

        var dropped: Int { bounds.reduce(0) { $0 + $1.dropped } }
    }

    private struct Shared {
        var queue: [Outgoing] = []
        /// Tracks whose caps are queued already.
        var hasCaps: [Bool]
        /// nil while a thread pushes (it holds the pusher).
        var pusher: Pusher?
        var bytesSent = 0
        var dropped = 0
    }

    /// The appsrcs by track (nil where the consumer has none for a track).
    let sources: [SharedElement?]
    private let shared: Mutex<Shared>
    private let onDrops: @Sendable (Int) -> Void

    init(sources: [SharedElement?], onDrops: @escaping @Sendable (Int) -> Void) {
        self.sources = sources
        self.onDrops = onDrops
        shared = Mutex(Shared(hasCaps: Array(repeating: false, count: sources.count),
                              pusher: Pusher(bounds: Array(repeating: AppSourceBound(), count: sources.count))))
    }

    /// Bytes handed to the appsrcs, and buffers they had no room for, so far.
    var bytesSent: Int { shared.withLock { $0.bytesSent } }
    var dropped: Int { shared.withLock { $0.dropped } }

    /// Queues `item` behind what is queued (no GStreamer call: safe under the owner's lock).
    func enqueue(_ item: Outgoing) { shared.withLock { $0.queue.append(item) } }

    /// Queues `track`'s caps the first time they are known: a track (the sound) may first
    /// arrive after the consumer was made, and an appsrc without caps stops its pipeline.
    func enqueueCapsOnce(_ caps: SharedCaps?, track: Int) {
        guard let caps, track < sources.count, sources[track] != nil else { return }
        shared.withLock { s in
            guard !s.hasCaps[track] else { return }
            s.hasCaps[track] = true
            s.queue.append(.caps(track: track, caps))
        }
    }

    /// Hands everything queued to the appsrcs, unless another thread is at it (which then
    /// hands over this caller's items too). `admit` sees each buffer first, on the pushing
    /// thread with no lock held; false drops it quietly (a paused viewer). Call with no lock held.
    func push(admit: (_ track: Int, _ buffer: SharedBuffer) -> Bool = { _, _ in true }) {
        guard var pusher = shared.withLock({ s -> Pusher? in
            defer { s.pusher = nil }
            return s.pusher
        }) else { return }
        while true {
            let batch = shared.withLock { s -> [Outgoing]? in
                s.bytesSent += pusher.bytes
                s.dropped = pusher.dropped
                pusher.bytes = 0
                guard !s.queue.isEmpty else {
                    s.pusher = pusher
                    return nil
                }
                defer { s.queue.removeAll(keepingCapacity: true) }
                return s.queue
            }
            guard let batch else { return }
            var report: Int?
            for item in batch {
                switch item {
                case let .buffer(track, buffer):
                    guard track < sources.count, let source = sources[track], admit(track, buffer) else { continue }
                    let size = buffer.size
                    if pusher.bounds[track].push(buffer.newReference(), into: source.pointer) {
                        pusher.bytes += size
                    } else if pusher.reporter.isDue() {
                        report = pusher.dropped
                    }
                case let .caps(track, caps):
                    guard track < sources.count, let source = sources[track] else { continue }
                    source.pointer.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_set_caps($0, caps.pointer) }
                case .end:
                    for source in sources.compactMap({ $0 }) {
                        source.pointer.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_end_of_stream($0) }
                    }
                }
            }
            if let report { onDrops(report) }
        }
    }
}
