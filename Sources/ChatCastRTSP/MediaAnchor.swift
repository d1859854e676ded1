import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer

/// Keeps a live room's shared PLAY media up while no viewer watches it (see
/// `cgst_rtsp_media_anchor`): without it, 1.22 unprepares the media as the last viewer
/// leaves and answers 503 to viewers arriving in that instant. Anchoring and releasing run
/// on the RTSP server's main loop, where no media lock is held.
final class MediaAnchor: @unchecked Sendable {
    let media: UnsafeMutablePointer<GstRTSPMedia>
    private let context: OpaquePointer
    // Main-loop confined.
    private var anchored = false

    /// Takes a reference to `media`.
    init(media: UnsafeMutablePointer<GstRTSPMedia>, context: OpaquePointer) {
        self.context = context
        self.media = media
        g_object_ref(media)
    }

    deinit { g_object_unref(media) }

    func anchor() { onLoop { $0.anchored = cgst_rtsp_media_anchor($0.media) != 0 } }

    /// Lets the media go (the room ended).
    func release() {
        onLoop { anchor in
            guard anchor.anchored else { return }
            anchor.anchored = false
            cgst_rtsp_media_release_anchor(anchor.media)
        }
    }

    private func onLoop(_ body: @escaping (MediaAnchor) -> Void) {
        let job = Unmanaged.passRetained(Job(anchor: self, body: body)).toOpaque()
        let source = g_idle_source_new()!
        g_source_set_callback(source, { data in
            let job = Unmanaged<Job>.fromOpaque(data!).takeUnretainedValue()
            job.body(job.anchor)
            return 0  // G_SOURCE_REMOVE
        }, job, { Unmanaged<Job>.fromOpaque($0!).release() })
        g_source_attach(source, context)
        g_source_unref(source)
    }

    private final class Job {
        let anchor: MediaAnchor
        let body: (MediaAnchor) -> Void
        init(anchor: MediaAnchor, body: @escaping (MediaAnchor) -> Void) {
            self.anchor = anchor
            self.body = body
        }
    }
}
