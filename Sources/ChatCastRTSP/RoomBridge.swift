import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer
import Foundation

/// One room's published stream carried, in process, from its RECORD media to the PLAY media
/// that viewers of the same path share (gst-rtsp-server does not do this by itself): H.264
/// access units leave the RECORD pipeline's appsink and enter the PLAY pipeline's appsrc,
/// retimed from one pipeline's running time to the other's.
final class RoomBridge: @unchecked Sendable {
    /// The RECORD side's pipeline: whatever the publisher's depayloader gives, as access units.
    static let recordLaunch = "( rtph264depay name=depay0 ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au "
        + "! appsink name=bridge sync=false max-buffers=120 )"
    /// The PLAY side's: SPS/PPS before every key frame, so a viewer can start at any IDR.
    static let playLaunch = "( appsrc name=src is-live=true format=time max-bytes=4000000 "
        + "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"

    typealias Element = UnsafeMutablePointer<GstElement>

    let path: String
    /// Runs (off the server's thread) when the first access unit arrives, and when the
    /// publisher's media is gone.
    var onLive: (@Sendable (RoomBridge) -> Void)?
    var onEnded: (@Sendable (RoomBridge) -> Void)?
    /// The URL the publisher used (for the room's topic).
    var publishedURL = ""

    private let lock = NSLock()
    private var recordMedia: UnsafeMutablePointer<GstRTSPMedia>?
    private var recordSink: Element?
    private var sources: [Element] = []
    private var startedSources: Set<Element> = []
    private var caps: UnsafeMutablePointer<GstCaps>?
    private(set) var isLive = false
    private(set) var accessUnits = 0
    private(set) var bytes = 0

    init(path: String) { self.path = path }

    var room: String { String(path.dropFirst()) }

    /// True while a publisher's RECORD media feeds this room.
    var hasPublisher: Bool { lock.withLock { recordMedia != nil } }

    var counters: (accessUnits: Int, bytes: Int) { lock.withLock { (accessUnits, bytes) } }

    // MARK: RECORD side

    /// A publisher's media was built: take its appsink. Returns false (and leaves the media
    /// alone) when another publisher already feeds the room.
    func attachRecord(_ media: UnsafeMutablePointer<GstRTSPMedia>) -> Bool {
        guard let bin = gst_rtsp_media_get_element(media) else { return false }
        defer { gst_object_unref(bin) }
        guard let sink = gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "bridge") else {
            return false
        }
        let taken = lock.withLock { () -> Bool in
            guard recordMedia == nil else { return false }
            recordMedia = media
            recordSink = sink
            return true
        }
        guard taken else {
            gst_object_unref(sink)
            return false
        }
        var callbacks = GstAppSinkCallbacks()
        callbacks.new_sample = { appsink, data in
            let bridge = Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue()
            guard let sample = gst_app_sink_pull_sample(appsink) else { return GST_FLOW_EOS }
            defer { gst_mini_object_unref(UnsafeMutableRawPointer(sample).assumingMemoryBound(to: GstMiniObject.self)) }
            bridge.forward(sample)
            return GST_FLOW_OK
        }
        sink.withMemoryRebound(to: GstAppSink.self, capacity: 1) {
            gst_app_sink_set_callbacks($0, &callbacks, Unmanaged.passUnretained(self).toOpaque(), nil)
        }
        _ = cgst_signal_connect(media, "unprepared", unsafeBitCast(RoomBridge.recordUnprepared, to: GCallback.self),
                                Unmanaged.passUnretained(self).toOpaque())
        return true
    }

    private static let recordUnprepared: @convention(c) (UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { media, data in
        Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue().publisherGone(media)
    }

    private func publisherGone(_ media: UnsafeMutablePointer<GstRTSPMedia>?) {
        let (wasLive, sink, ending) = lock.withLock { () -> (Bool, Element?, [Element]) in
            guard media == recordMedia else { return (false, nil, []) }
            let result = (isLive, recordSink, sources)
            recordMedia = nil
            recordSink = nil
            isLive = false
            if let caps { gst_mini_object_unref(UnsafeMutableRawPointer(caps).assumingMemoryBound(to: GstMiniObject.self)) }
            caps = nil
            return result
        }
        if let sink { gst_object_unref(sink) }
        // Viewers still attached see the end of the stream rather than a stall.
        for source in ending { source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_end_of_stream($0) } }
        if wasLive { onEnded?(self) }
    }

    private func forward(_ sample: OpaquePointer) {
        guard let buffer = gst_sample_get_buffer(sample) else { return }
        let size = Int(gst_buffer_get_size(buffer))
        var becameLive = false
        let targets = lock.withLock { () -> [(Element, GstClockTimeDiff)] in
            if caps == nil, let sampleCaps = gst_sample_get_caps(sample) {
                caps = gst_caps_copy(sampleCaps)
            }
            if !isLive {
                isLive = true
                becameLive = true
            }
            accessUnits += 1
            bytes += size
            guard let recordSink else { return [] }
            let recordBase = GstClockTimeDiff(bitPattern: gst_element_get_base_time(recordSink))
            return sources.compactMap { source in
                // A PLAY pipeline not yet PLAYING has no base time to map onto.
                guard source.pointee.current_state == GST_STATE_PLAYING else { return nil }
                return (source, recordBase - GstClockTimeDiff(bitPattern: gst_element_get_base_time(source)))
            }
        }
        if becameLive { onLive?(self) }
        for (source, offset) in targets {
            guard let copy = retimed(buffer, by: offset) else { continue }
            var first = false
            lock.withLock { first = startedSources.insert(source).inserted }
            if first { requestKeyUnit() }
            source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_push_buffer($0, copy) }
        }
    }

    /// A copy of `buffer` (sharing its memory) in the other pipeline's running time; nil for
    /// access units that would fall before that pipeline started.
    private func retimed(_ buffer: UnsafeMutablePointer<GstBuffer>, by offset: GstClockTimeDiff) -> UnsafeMutablePointer<GstBuffer>? {
        func shift(_ time: GstClockTime) -> GstClockTime? {
            guard time != GstClockTime.max else { return time }
            let moved = GstClockTimeDiff(bitPattern: time) + offset
            return moved >= 0 ? GstClockTime(moved) : nil
        }
        guard let pts = shift(buffer.pointee.pts), let dts = shift(buffer.pointee.dts) else { return nil }
        guard let copy = gst_buffer_copy(buffer) else { return nil }
        copy.pointee.pts = pts
        copy.pointee.dts = dts
        return copy
    }

    /// Asks the publisher for a key frame (an upstream force-key-unit event into the RECORD
    /// pipeline; only publishers that honour RTCP feedback could answer it).
    func requestKeyUnit() {
        let sink = lock.withLock { recordSink.flatMap { gst_object_ref($0) } }
        guard let sink else { return }
        defer { gst_object_unref(sink) }
        let element = UnsafeMutableRawPointer(sink).assumingMemoryBound(to: GstElement.self)
        guard let pad = gst_element_get_static_pad(element, "sink") else { return }
        defer { gst_object_unref(pad) }
        if let event = gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0) {
            _ = gst_pad_push_event(pad, event)
        }
    }

    // MARK: PLAY side

    /// The viewers' shared media was built: feed its appsrc.
    func attachPlay(_ media: UnsafeMutablePointer<GstRTSPMedia>) {
        guard let bin = gst_rtsp_media_get_element(media) else { return }
        defer { gst_object_unref(bin) }
        guard let source = gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "src") else { return }
        lock.withLock {
            if let caps {
                source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_set_caps($0, caps) }
            }
            sources.append(source)
        }
        _ = cgst_signal_connect(media, "unprepared", unsafeBitCast(RoomBridge.playUnprepared, to: GCallback.self),
                                Unmanaged.passUnretained(self).toOpaque())
        // The media keeps itself alive until "unprepared"; the source is found again there.
        g_object_set_data(UnsafeMutableRawPointer(media).assumingMemoryBound(to: GObject.self), "chatcast-appsrc", source)
    }

    private static let playUnprepared: @convention(c) (UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { media, data in
        guard let media else { return }
        let bridge = Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue()
        guard let raw = g_object_steal_data(UnsafeMutableRawPointer(media).assumingMemoryBound(to: GObject.self), "chatcast-appsrc") else { return }
        let source = raw.assumingMemoryBound(to: GstElement.self)
        bridge.lock.withLock {
            bridge.sources.removeAll { $0 == source }
            bridge.startedSources.remove(source)
        }
        gst_object_unref(source)
    }
}
