import CGStreamer
import CGstRTSPGlue
import Foundation
import Locking

/// Writes a live room to Matroska files as it goes (every track, the chat and detections
/// inside the video as SEI): a cluster at least every second and no index to wait for, so a
/// server killed with -9 loses about the last second; a new file every `segmentSeconds` (at
/// a key frame) or `segmentBytes`, named ROOM-YYYYMMDDTHHMMSSZ.mkv by its UTC start.
/// Fed by its room's bridge (buffers carrying clock times, see `RoomBridge`).
final class RoomRecorder: Sendable {
    struct Settings: Sendable {
        var directory: String
        var segmentSeconds: Int = 3600
        var segmentBytes: Int = 0
    }

    private struct State {
        var origin = GstClockTime.max
        var started = false
        var ended = false
        /// Files begun so far (for tests and the log).
        var files: [String] = []
    }

    let room: String
    private let settings: Settings
    private let pipeline: SharedElement
    private let videoTrack: Int?
    private let state: Mutex<State>
    /// Each appsrc bounded: a disk that cannot keep up costs buffers, not memory.
    private let outbox: AppSourceOutbox
    /// Recordings still being finished in the background (a stopping server waits for them).
    static let finishing = DispatchGroup()
    /// Told when the recording stopped on an error (its message).
    private let onError: @Sendable (String) -> Void

    enum Failure: Error, CustomStringConvertible {
        case cannotBuild(String)
        var description: String {
            switch self { case let .cannotBuild(reason): return "cannot record: \(reason)" }
        }
    }

    /// `onDrops` is told how many buffers the recording has lost so far (the first time, then
    /// every 10 s), `onError` why it stopped early.
    init(room: String, plan: TrackPlan, caps: [SharedCaps?], settings: Settings,
         onDrops: @escaping @Sendable (Int) -> Void, onError: @escaping @Sendable (String) -> Void) throws {
        self.room = room
        self.settings = settings
        self.onError = onError
        videoTrack = plan.videoTrack
        try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        var error: UnsafeMutablePointer<GError>?
        let element = gst_parse_launch(plan.recordingLaunch(segmentNanoseconds: UInt64(settings.segmentSeconds) * 1_000_000_000,
                                                            segmentBytes: UInt64(settings.segmentBytes)), &error)
        if let error {
            defer { g_error_free(error) }
            if let element { gst_object_unref(element) }
            throw Failure.cannotBuild(String(cString: error.pointee.message))
        }
        pipeline = SharedElement(taking: element!)
        let bin = UnsafeMutableRawPointer(pipeline.pointer).assumingMemoryBound(to: GstBin.self)
        let sources = plan.codecs.indices.map { gst_bin_get_by_name(bin, "src\($0)").map(SharedElement.init(taking:)) }
        outbox = AppSourceOutbox(sources: sources, onDrops: onDrops)
        state = Mutex(State())
        for index in sources.indices where index < caps.count { ensureCaps(caps[index], track: index) }
        outbox.push()
        if let mux = gst_bin_get_by_name(bin, "mux") {
            connectSignal(mux, "format-location", unsafeBitCast(RoomRecorder.nameFile, to: GCallback.self), to: self)
            gst_object_unref(mux)
        }
        guard gst_element_set_state(pipeline.pointer, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw Failure.cannotBuild("the recording pipeline would not start (is \(settings.directory) writable?)")
        }
    }

    deinit {
        gst_element_set_state(pipeline.pointer, GST_STATE_NULL)
    }

    /// ROOM-YYYYMMDDTHHMMSSZ.mkv in the directory, a suffix added if that name is taken.
    private static let nameFile: @convention(c) (UnsafeMutablePointer<GstElement>?, guint, gpointer?) -> UnsafeMutablePointer<gchar>? = { _, _, data in
        guard let recorder = WeakBox.object(data, as: RoomRecorder.self) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stem = recorder.settings.directory + "/" + recorder.room + "-" + formatter.string(from: Date())
        var path = stem + ".mkv"
        var n = 1
        while FileManager.default.fileExists(atPath: path) {
            n += 1
            path = stem + "-\(n).mkv"
        }
        recorder.state.withLock { $0.files.append(path) }
        return g_strdup(path)
    }

    var recordedFiles: [String] { state.withLock { $0.files } }

    /// Gives `track`'s appsrc its caps, once (a source without caps stops the whole file).
    /// Queued; `push` sends it.
    func ensureCaps(_ caps: SharedCaps?, track: Int) { outbox.enqueueCapsOnce(caps, track: track) }

    /// A carried buffer of `track` (clock times in its offset fields); the recording starts at
    /// the first video key frame (the first buffer without video) and is timed from there.
    /// Queued in the order offered (its bridge offers under its lock); `push` sends it.
    func offer(_ carrier: SharedBuffer, track: Int) {
        guard track < outbox.sources.count, outbox.sources[track] != nil else { return }
        let retimed = state.withLock { s -> SharedBuffer? in
            guard !s.ended else { return nil }
            let pts = carrier.clockPTS, dts = carrier.clockDTS
            if !s.started {
                guard videoTrack == nil || (track == videoTrack && carrier.isKeyFrame) else { return nil }
                s.started = true
                s.origin = dts != GstClockTime.max ? min(pts, dts) : pts
            }
            guard pts != GstClockTime.max, pts >= s.origin, let copy = gst_buffer_copy(carrier.pointer) else { return nil }
            copy.pointee.pts = pts - s.origin
            copy.pointee.dts = dts != GstClockTime.max && dts >= s.origin ? dts - s.origin : GstClockTime.max
            copy.pointee.offset = GstClockTime.max
            copy.pointee.offset_end = GstClockTime.max
            return SharedBuffer(taking: copy)
        }
        if let retimed { outbox.enqueue(.buffer(track: track, retimed)) }
    }

    /// Hands the appsrcs what was offered; no lock may be held (splitmuxsink's callbacks run
    /// on the pushing thread).
    func push() { outbox.push() }

    /// `finish` on another thread, counted in `finishing`.
    func finishInBackground() {
        Self.finishing.enter()
        DispatchQueue.global().async {
            self.finish()
            Self.finishing.leave()
        }
    }

    /// Ends the files properly (index and duration written); waits at most `seconds`.
    func finish(within seconds: Double = 5) {
        let first = state.withLock { s -> Bool in
            defer { s.ended = true }
            return !s.ended
        }
        guard first else { return }
        outbox.enqueue(.end)
        outbox.push()
        guard let bus = gst_element_get_bus(pipeline.pointer) else { return }
        defer { gst_object_unref(bus) }
        let kinds = GstMessageType(rawValue: GST_MESSAGE_EOS.rawValue | GST_MESSAGE_ERROR.rawValue)
        if let message = gst_bus_timed_pop_filtered(bus, GstClockTime(seconds * 1e9), kinds) {
            if message.pointee.type == GST_MESSAGE_ERROR {
                var error: UnsafeMutablePointer<GError>?
                gst_message_parse_error(message, &error, nil)
                onError(error.map { String(cString: $0.pointee.message) } ?? "unknown error")
                if let error { g_error_free(error) }
            }
            gst_message_unref(message)
        } else {
            onError("the recording did not finish within \(Int(seconds)) s; its last file may lack its index")
        }
        gst_element_set_state(pipeline.pointer, GST_STATE_NULL)
    }
}
