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
    /// When an ANNOUNCE last named this room (rooms nobody feeds are pruned after a while).
    var announcedAt = Date()

    private let lock = NSLock()
    private var recordMedia: UnsafeMutablePointer<GstRTSPMedia>?
    private var recordSink: Element?
    private var sources: [Element] = []
    private var caps: UnsafeMutablePointer<GstCaps>?
    private var gop: [UnsafeMutablePointer<GstBuffer>] = []
    private var live = false
    private(set) var accessUnits = 0
    private(set) var bytes = 0

    /// The RTSP server's main-loop context (where PLAY media are anchored).
    private let context: OpaquePointer
    private var anchors: [MediaAnchor] = []

    init(path: String, context: OpaquePointer) {
        self.path = path
        self.context = context
    }

    var room: String { String(path.dropFirst()) }

    /// True from the publisher's first access unit until its media is gone.
    var isLive: Bool { lock.withLock { live } }

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
        let (wasLive, sink, ending, anchored) = lock.withLock { () -> (Bool, Element?, [Element], [MediaAnchor]) in
            guard media == recordMedia else { return (false, nil, [], []) }
            let result = (live, recordSink, sources, anchors)
            anchors = []
            recordMedia = nil
            recordSink = nil
            live = false
            if let caps { gst_mini_object_unref(UnsafeMutableRawPointer(caps).assumingMemoryBound(to: GstMiniObject.self)) }
            caps = nil
            gop.forEach(unref)
            gop = []
            return result
        }
        if let sink { gst_object_unref(sink) }
        // Viewers still attached see the end of the stream rather than a stall.
        for source in ending { source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_end_of_stream($0) } }
        for anchor in anchored { anchor.release() }
        if wasLive { onEnded?(self) }
    }

    private func forward(_ sample: OpaquePointer) {
        guard let buffer = gst_sample_get_buffer(sample), let carrier = gst_buffer_copy(buffer) else { return }
        defer { unref(carrier) }
        let size = Int(gst_buffer_get_size(buffer))
        let isKey = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
        var becameLive = false
        var dropped: [UnsafeMutablePointer<GstBuffer>] = []
        let targets = lock.withLock { () -> [Element] in
            if caps == nil, let sampleCaps = gst_sample_get_caps(sample) {
                caps = gst_caps_copy(sampleCaps)
            }
            if !live {
                live = true
                becameLive = true
            }
            accessUnits += 1
            bytes += size
            guard let recordSink else { return [] }
            // One carrier per access unit, shared by reference by every PLAY appsrc. Clock
            // times travel in the offset fields; the PLAY side turns them into its running
            // time as the buffer leaves its appsrc (`retime`), once that pipeline is PLAYING
            // and its base time is known. Without timestamps appsrc never waits.
            let recordBase = gst_element_get_base_time(recordSink)
            carrier.pointee.offset = Self.absolute(buffer.pointee.pts, base: recordBase)
            carrier.pointee.offset_end = Self.absolute(buffer.pointee.dts, base: recordBase)
            carrier.pointee.pts = GstClockTime.max
            carrier.pointee.dts = GstClockTime.max
            // The access units since the last key frame: a PLAY media that starts gets them
            // at once, so it prepares without waiting for the publisher (whose TCP data may
            // come through a server thread that this very DESCRIBE blocks) and its viewers
            // decode at once. Only a run that starts at a key frame is kept.
            if isKey || gop.count >= Self.gopLimit {
                dropped = gop
                gop = []
            }
            if isKey || !gop.isEmpty { gop.append(gst_buffer_ref(carrier)) }
            return sources
        }
        dropped.forEach(unref)
        if becameLive { onLive?(self) }
        for source in targets { push(carrier, to: source) }
    }

    private static let gopLimit = 300

    private func push(_ buffer: UnsafeMutablePointer<GstBuffer>, to source: Element) {
        source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { _ = gst_app_src_push_buffer($0, gst_buffer_ref(buffer)) }
    }

    private func unref(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        gst_mini_object_unref(UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: GstMiniObject.self))
    }

    private static func absolute(_ time: GstClockTime, base: GstClockTime) -> GstClockTime {
        time == GstClockTime.max ? time : time &+ base
    }

    /// On the PLAY appsrc's pad: clock times (offset fields) → this pipeline's running time.
    /// The cached GOP was captured before this pipeline started, so its times fall before
    /// zero: each buffer gets at least 1 ms more than the one before, keeping timestamps
    /// strictly increasing (payloaders, decoders and ffmpeg expect that) while the viewer
    /// runs through the cached frames at once.
    private static let retime: GstPadProbeCallback = { pad, info, data in
        guard let info, let payload = info.pointee.data, let data else { return GST_PAD_PROBE_OK }
        let clock = Unmanaged<RetimeClock>.fromOpaque(data).takeUnretainedValue()
        let element = gst_pad_get_parent_element(pad)
        defer { if let element { gst_object_unref(element) } }
        let base = element.map { gst_element_get_base_time($0) } ?? 0
        let writable = gst_mini_object_make_writable(payload.assumingMemoryBound(to: GstMiniObject.self))!
        info.pointee.data = UnsafeMutableRawPointer(writable)
        let buffer = UnsafeMutableRawPointer(writable).assumingMemoryBound(to: GstBuffer.self)
        (buffer.pointee.pts, buffer.pointee.dts) = clock.running(pts: buffer.pointee.offset, dts: buffer.pointee.offset_end, base: base)
        buffer.pointee.offset = guint64.max
        buffer.pointee.offset_end = guint64.max
        return GST_PAD_PROBE_OK
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

    /// The viewers' shared media was built: feed its appsrc for as long as the media exists.
    /// 1.22 can prepare a shared media again after "unprepared" (a viewer arriving as the
    /// last one leaves) without configuring it again, so the source stays until the media
    /// is finalised; pushing into a stopped appsrc just drops the buffer.
    func attachPlay(_ media: UnsafeMutablePointer<GstRTSPMedia>) {
        guard let bin = gst_rtsp_media_get_element(media) else { return }
        defer { gst_object_unref(bin) }
        guard let source = gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "src") else { return }
        if let pad = gst_element_get_static_pad(source, "src") {
            _ = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, RoomBridge.retime, Unmanaged.passRetained(RetimeClock()).toOpaque(),
                                  { Unmanaged<RetimeClock>.fromOpaque($0!).release() })
            gst_object_unref(pad)
        }
        lock.withLock {
            if let caps {
                source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_set_caps($0, caps) }
            }
            sources.append(source)
            // In order: the cached run first, then whatever `forward` pushes next.
            for buffer in gop { push(buffer, to: source) }
        }
        let detach = PlayDetach(bridge: self, source: source)
        g_object_weak_ref(UnsafeMutableRawPointer(media).assumingMemoryBound(to: GObject.self), { data, _ in
            Unmanaged<PlayDetach>.fromOpaque(data!).takeRetainedValue().mediaGone()
        }, Unmanaged.passRetained(detach).toOpaque())
    }

    /// A viewer PLAYs `media` (complete by now: SETUP came first): from now on it stays up
    /// while the room is live, watched or not.
    func keepUp(_ media: UnsafeMutablePointer<GstRTSPMedia>) {
        let anchor: MediaAnchor? = lock.withLock {
            guard recordMedia != nil, !anchors.contains(where: { $0.media == media }) else { return nil }
            let anchor = MediaAnchor(media: media, context: context)
            anchors.append(anchor)
            return anchor
        }
        anchor?.anchor()
    }

    fileprivate func forget(_ source: Element) {
        lock.withLock {
            sources.removeAll { $0 == source }
        }
        gst_object_unref(source)
    }
}

/// One PLAY media's appsrc, dropped from its bridge when the media is finalised.
private final class PlayDetach {
    let bridge: RoomBridge
    let source: RoomBridge.Element
    init(bridge: RoomBridge, source: RoomBridge.Element) {
        self.bridge = bridge
        self.source = source
    }
    func mediaGone() { bridge.forget(source) }
}
