import CGStreamer
import CGstRTSPGlue
import Foundation

/// Writes a live room to Matroska files as it goes (every track, the chat and detections
/// inside the video as SEI): a cluster at least every second and no index to wait for, so a
/// server killed with -9 loses about the last second; a new file every `segmentSeconds` (at
/// a key frame) or `segmentBytes`, named ROOM-YYYYMMDDTHHMMSSZ.mkv by its UTC start.
/// Fed by its room's bridge (buffers carrying clock times, see `RoomBridge`).
final class RoomRecorder: @unchecked Sendable {
    typealias Element = UnsafeMutablePointer<GstElement>

    struct Settings: Sendable {
        var directory: String
        var segmentSeconds: Int = 3600
        var segmentBytes: Int = 0
    }

    let room: String
    private let settings: Settings
    private let pipeline: Element
    private let sources: [Element?]
    private let videoTrack: Int?
    private let lock = NSLock()
    private var origin = GstClockTime.max
    private var started = false
    private var ended = false
    private var hasCaps: [Bool] = []
    /// Each appsrc bounded: a disk that cannot keep up costs buffers, not memory.
    private var bounds: [AppSourceBound] = []
    private var reporter = DropReporter()
    /// Told how many buffers the recording has lost so far (the first time, then every 10 s).
    var onDrops: (@Sendable (Int) -> Void)?
    /// Files begun so far (for tests and the log).
    private(set) var files: [String] = []
    /// Recordings still being finished in the background (a stopping server waits for them).
    static let finishing = DispatchGroup()
    /// Told when the recording stopped on an error (its message).
    var onError: (@Sendable (String) -> Void)?

    enum Failure: Error, CustomStringConvertible {
        case cannotBuild(String)
        var description: String {
            switch self { case let .cannotBuild(reason): return "cannot record: \(reason)" }
        }
    }

    init(room: String, plan: TrackPlan, caps: [UnsafeMutablePointer<GstCaps>?], settings: Settings) throws {
        self.room = room
        self.settings = settings
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
        pipeline = element!
        let bin = UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self)
        sources = plan.codecs.indices.map { gst_bin_get_by_name(bin, "src\($0)") }
        hasCaps = Array(repeating: false, count: sources.count)
        bounds = Array(repeating: AppSourceBound(), count: sources.count)
        for index in sources.indices where index < caps.count { ensureCaps(caps[index], track: index) }
        if let mux = gst_bin_get_by_name(bin, "mux") {
            _ = cgst_signal_connect(mux, "format-location", unsafeBitCast(RoomRecorder.nameFile, to: GCallback.self),
                                    Unmanaged.passUnretained(self).toOpaque())
            gst_object_unref(mux)
        }
        guard gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            sources.compactMap { $0 }.forEach { gst_object_unref($0) }
            gst_object_unref(pipeline)
            throw Failure.cannotBuild("the recording pipeline would not start (is \(settings.directory) writable?)")
        }
    }

    deinit {
        gst_element_set_state(pipeline, GST_STATE_NULL)
        sources.compactMap { $0 }.forEach { gst_object_unref($0) }
        gst_object_unref(pipeline)
    }

    /// ROOM-YYYYMMDDTHHMMSSZ.mkv in the directory, a suffix added if that name is taken.
    private static let nameFile: @convention(c) (Element?, guint, gpointer?) -> UnsafeMutablePointer<gchar>? = { _, _, data in
        let recorder = Unmanaged<RoomRecorder>.fromOpaque(data!).takeUnretainedValue()
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
        recorder.lock.withLock { recorder.files.append(path) }
        return g_strdup(path)
    }

    var recordedFiles: [String] { lock.withLock { files } }

    /// Gives `track`'s appsrc its caps, once: the sound may first arrive after the recording
    /// began, and a source without caps stops the whole file.
    func ensureCaps(_ caps: UnsafeMutablePointer<GstCaps>?, track: Int) {
        guard let caps, track < sources.count, let source = sources[track] else { return }
        let first = lock.withLock { () -> Bool in
            defer { hasCaps[track] = true }
            return !hasCaps[track]
        }
        if first { source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_set_caps($0, caps) } }
    }

    /// A carried buffer of `track` (clock times in its offset fields); the recording starts at
    /// the first video key frame (the first buffer without video) and is timed from there.
    func offer(_ carrier: UnsafeMutablePointer<GstBuffer>, track: Int, isKey: Bool) {
        guard track < sources.count, let source = sources[track] else { return }
        let buffer: UnsafeMutablePointer<GstBuffer>? = lock.withLock {
            guard !ended else { return nil }
            if !started {
                guard videoTrack == nil || (track == videoTrack && isKey) else { return nil }
                started = true
                origin = carrier.pointee.offset_end != GstClockTime.max ? min(carrier.pointee.offset, carrier.pointee.offset_end)
                    : carrier.pointee.offset
            }
            guard carrier.pointee.offset != GstClockTime.max, carrier.pointee.offset >= origin,
                  let copy = gst_buffer_copy(carrier) else { return nil }
            copy.pointee.pts = carrier.pointee.offset - origin
            copy.pointee.dts = carrier.pointee.offset_end != GstClockTime.max && carrier.pointee.offset_end >= origin
                ? carrier.pointee.offset_end - origin : GstClockTime.max
            copy.pointee.offset = GstClockTime.max
            copy.pointee.offset_end = GstClockTime.max
            return copy
        }
        guard let buffer else { return }
        // Pushed outside the lock: splitmuxsink's callbacks take it on the streaming thread.
        var bound = lock.withLock { bounds[track] }
        let admitted = bound.push(buffer, into: source)
        let report: Int? = lock.withLock {
            bounds[track] = bound
            guard !admitted, reporter.isDue() else { return nil }
            return bounds.reduce(0) { $0 + $1.dropped }
        }
        if let report { onDrops?(report) }
    }

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
        let first = lock.withLock { () -> Bool in
            defer { ended = true }
            return !ended
        }
        guard first else { return }
        for source in sources.compactMap({ $0 }) {
            source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_end_of_stream($0) }
        }
        guard let bus = gst_element_get_bus(pipeline) else { return }
        defer { gst_object_unref(bus) }
        let kinds = GstMessageType(rawValue: GST_MESSAGE_EOS.rawValue | GST_MESSAGE_ERROR.rawValue)
        if let message = gst_bus_timed_pop_filtered(bus, GstClockTime(seconds * 1e9), kinds) {
            if message.pointee.type == GST_MESSAGE_ERROR {
                var error: UnsafeMutablePointer<GError>?
                gst_message_parse_error(message, &error, nil)
                onError?(error.map { String(cString: $0.pointee.message) } ?? "unknown error")
                if let error { g_error_free(error) }
            }
            gst_message_unref(message)
        } else {
            onError?("the recording did not finish within \(Int(seconds)) s; its last file may lack its index")
        }
        gst_element_set_state(pipeline, GST_STATE_NULL)
    }
}
