import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer
import ChatCastSEI
import Foundation

/// One room's published stream carried, in process, from its RECORD media to its viewers'
/// PLAY media (gst-rtsp-server does not do this by itself): each track's buffers leave the
/// RECORD pipeline's appsink `trackN` and enter every PLAY pipeline's appsrc `srcN`,
/// carrying clock times that each PLAY media turns into its running time (`PlayGate`).
/// Each viewer has a media of its own, started at the room's latest key frame with the
/// frames since (a picture at once, whatever the publisher's GOP, decodable by any player,
/// with the publisher's own timing), and started again at a key frame when it resumes.
final class RoomBridge: @unchecked Sendable {
    typealias Element = UnsafeMutablePointer<GstElement>

    let path: String
    /// Runs (off the server's thread) when the room can be watched (the publisher's first key
    /// frame, or first buffer without video), and when the publisher's media is gone.
    var onLive: (@Sendable (RoomBridge) -> Void)?
    var onEnded: (@Sendable (RoomBridge) -> Void)?
    /// The URL the publisher used (for the room's topic).
    var publishedURL = ""
    /// Where and how the room is recorded while live (nil: not recorded).
    var recording: RoomRecorder.Settings?
    /// Runs when a recording cannot start (the room still plays).
    var onRecordingFailed: (@Sendable (RoomBridge, Error) -> Void)?
    /// A bounded queue of this room dropped buffers: who ("a viewer", "the recording") and
    /// how many so far.
    var onDrops: (@Sendable (RoomBridge, String, Int) -> Void)?
    /// When an ANNOUNCE last named this room (rooms nobody feeds are pruned after a while).
    var announcedAt = Date()
    /// The connection whose ANNOUNCE the room is waiting on (an opaque identity).
    var announcer: UInt = 0

    private let lock = NSLock()
    /// What the current (or next) publisher's ANNOUNCE offered.
    private var plan: TrackPlan?
    private var recordMedia: UnsafeMutablePointer<GstRTSPMedia>?
    private var recordSinks: [Element] = []
    private var caps: [UnsafeMutablePointer<GstCaps>?] = []
    /// The video since its latest key frame (parameter sets in band), and each audio track's
    /// buffers since then: a viewer starts with them, sound and picture from the same moment.
    private var gop: [UnsafeMutablePointer<GstBuffer>] = []
    private var audioSinceKey: [Int: [UnsafeMutablePointer<GstBuffer>]] = [:]
    private var medias: [PlayMedia] = []
    private var recorder: RoomRecorder?
    private var live = false
    private var wentLive: Date?
    private(set) var accessUnits = 0
    private(set) var bytes = 0
    /// Payload bytes handed to viewers that have gone (those still watching count their own).
    private var bytesSentByGone = 0
    /// The publisher's frame and bit rates over the last seconds.
    private var rates = RateWindow()
    /// ChatCast envelopes seen in the video, and what readers of them would drop.
    private var seiCounts = SEICounts()

    init(path: String) {
        self.path = path
    }

    var room: String { String(path.dropFirst()) }

    /// True from the publisher's first key frame until its media is gone.
    var isLive: Bool { lock.withLock { live } }

    /// When the room last went live (nil while it is not).
    var liveSince: Date? { lock.withLock { live ? wentLive : nil } }

    /// True while a publisher's RECORD media feeds this room.
    var hasPublisher: Bool { lock.withLock { recordMedia != nil } }

    var counters: (accessUnits: Int, bytes: Int) { lock.withLock { (accessUnits, bytes) } }

    /// What the metrics show of this room.
    var statistics: RoomStatistics {
        lock.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            return RoomStatistics(room: room, live: live, rtspViewers: medias.filter { $0.kind == .rtsp }.count,
                                  webrtcViewers: medias.filter { $0.kind == .webrtc }.count,
                                  framesReceived: accessUnits, bytesReceived: bytes,
                                  bytesSent: bytesSentByGone + medias.reduce(0) { $0 + $1.bytesSent },
                                  frameRate: rates.frameRate(now: now), bitRate: rates.bitRate(now: now), sei: seiCounts)
        }
    }

    /// The tracks the next RECORD media is built for (set at ANNOUNCE).
    var trackPlan: TrackPlan? {
        get { lock.withLock { plan } }
        set { lock.withLock { plan = newValue } }
    }

    // MARK: RECORD side

    /// A publisher's media was built: take its appsinks. Returns false (and leaves the media
    /// alone) when another publisher already feeds the room.
    func attachRecord(_ media: UnsafeMutablePointer<GstRTSPMedia>) -> Bool {
        guard let bin = gst_rtsp_media_get_element(media) else { return false }
        defer { gst_object_unref(bin) }
        let trackCount = lock.withLock { plan?.codecs.count ?? 0 }
        let sinks = (0..<trackCount).compactMap { gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "track\($0)") }
        let taken = lock.withLock { () -> Bool in
            guard recordMedia == nil, sinks.count == trackCount, trackCount > 0 else { return false }
            recordMedia = media
            recordSinks = sinks
            caps = Array(repeating: nil, count: trackCount)
            return true
        }
        guard taken else {
            sinks.forEach { gst_object_unref($0) }
            return false
        }
        for (index, sink) in sinks.enumerated() {
            var callbacks = GstAppSinkCallbacks()
            callbacks.new_sample = { appsink, data in
                let tap = Unmanaged<TrackTap>.fromOpaque(data!).takeUnretainedValue()
                guard let sample = gst_app_sink_pull_sample(appsink) else { return GST_FLOW_EOS }
                defer { gst_mini_object_unref(UnsafeMutableRawPointer(sample).assumingMemoryBound(to: GstMiniObject.self)) }
                tap.bridge.forward(sample, track: tap.track)
                return GST_FLOW_OK
            }
            let tap = Unmanaged.passRetained(TrackTap(bridge: self, track: index)).toOpaque()
            sink.withMemoryRebound(to: GstAppSink.self, capacity: 1) {
                gst_app_sink_set_callbacks($0, &callbacks, tap, { Unmanaged<TrackTap>.fromOpaque($0!).release() })
            }
        }
        _ = cgst_signal_connect(media, "unprepared", unsafeBitCast(RoomBridge.recordUnprepared, to: GCallback.self),
                                Unmanaged.passUnretained(self).toOpaque())
        if let pipeline = gst_object_get_parent(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstObject.self)) {
            _ = cgst_signal_connect(pipeline, "deep-element-added", unsafeBitCast(RoomBridge.recordElementAdded, to: GCallback.self), nil)
            gst_object_unref(pipeline)
        }
        return true
    }

    /// The publisher's timestamps as it sent them: the jitter buffer's default (slave) mode
    /// dates frames by their arrival, whose jitter reorders B-frames (a frame displayed
    /// before the one decoded ahead of it) and makes players complain. RTP times only.
    private static let recordElementAdded: @convention(c) (gpointer?, gpointer?, gpointer?, gpointer?) -> Void = { _, _, element, _ in
        guard let element else { return }
        let object = element.assumingMemoryBound(to: GObject.self)
        guard let factory = gst_element_get_factory(element.assumingMemoryBound(to: GstElement.self)),
              let name = gst_object_get_name(UnsafeMutableRawPointer(factory).assumingMemoryBound(to: GstObject.self)) else { return }
        defer { g_free(name) }
        guard String(cString: name) == "rtpbin" else { return }
        var mode = GValue()
        g_value_init(&mode, g_type_from_name("RTPJitterBufferMode"))
        g_value_set_enum(&mode, 0)  // none: RTP timestamps only
        g_object_set_property(object, "buffer-mode", &mode)
        g_value_unset(&mode)
    }

    /// The publisher's connection closed before any media came: its RECORD media (built at
    /// ANNOUNCE) is let go, which ends the room as a publisher leaving does.
    func abandon() {
        guard let media = lock.withLock({ live ? nil : recordMedia }) else { return }
        _ = gst_rtsp_media_unprepare(media)
    }

    private static let recordUnprepared: @convention(c) (UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { media, data in
        Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue().publisherGone(media)
    }

    private func publisherGone(_ media: UnsafeMutablePointer<GstRTSPMedia>?) {
        let (wasLive, sinks, dropped, recorded) = lock.withLock { () -> (Bool, [Element], [UnsafeMutablePointer<GstBuffer>], RoomRecorder?) in
            guard media == recordMedia else { return (false, [], [], nil) }
            defer { recorder = nil }
            // Viewers still attached see the end of the stream rather than a stall.
            medias.forEach { $0.end() }
            let result = (live, recordSinks, gop + audioSinceKey.values.joined(), recorder)
            gop = []
            audioSinceKey = [:]
            recordMedia = nil
            recordSinks = []
            live = false
            caps.compactMap { $0 }.forEach { gst_mini_object_unref(UnsafeMutableRawPointer($0).assumingMemoryBound(to: GstMiniObject.self)) }
            caps = []
            return result
        }
        sinks.forEach { gst_object_unref($0) }
        dropped.forEach(unref)
        recorded?.finishInBackground()
        if wasLive { onEnded?(self) }
    }

    private func forward(_ sample: OpaquePointer, track: Int) {
        guard let buffer = gst_sample_get_buffer(sample), let carrier = gst_buffer_copy(buffer) else { return }
        defer { unref(carrier) }
        let size = Int(gst_buffer_get_size(buffer))
        let isKey = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
        var becameLive = false
        var dropped: [UnsafeMutablePointer<GstBuffer>] = []
        // Read outside the lock: viewers' pushes and the pacer wait on it.
        let codec = trackPlan.flatMap { track < $0.codecs.count ? $0.codecs[track] : nil }
        let sei = codec?.isVideo == true ? SEICounts.of(buffer, codec: codec == .h265 ? .h265 : .h264) : SEICounts()
        lock.withLock {
            guard track < recordSinks.count else { return }
            if caps[track] == nil, let sampleCaps = gst_sample_get_caps(sample) {
                caps[track] = gst_caps_copy(sampleCaps)
            }
            let videoTrack = plan?.videoTrack
            if !live && (videoTrack == nil || (track == videoTrack && isKey)) {
                live = true
                wentLive = Date()
                becameLive = true
            }
            if track == videoTrack {
                accessUnits += 1
                seiCounts.add(sei)
            }
            bytes += size
            rates.add(bytes: size, frames: track == videoTrack ? 1 : 0, now: DispatchTime.now().uptimeNanoseconds)
            // Clock times travel in the offset fields; each PLAY media turns them into its
            // running time as the buffer leaves its appsrc (`PlayGate`).
            let recordBase = gst_element_get_base_time(recordSinks[track])
            carrier.pointee.offset = Self.absolute(buffer.pointee.pts, base: recordBase)
            carrier.pointee.offset_end = Self.absolute(buffer.pointee.dts, base: recordBase)
            carrier.pointee.pts = GstClockTime.max
            carrier.pointee.dts = GstClockTime.max
            if track == videoTrack {
                // Only a run that starts at a key frame is kept, and not an endless one.
                if isKey || gop.count >= Self.gopLimit {
                    dropped = gop
                    gop = []
                    let start = isKey ? carrier.pointee.offset : GstClockTime.max
                    for (audio, buffers) in audioSinceKey {
                        let (older, newer) = (buffers.filter { $0.pointee.offset < start }, buffers.filter { $0.pointee.offset >= start })
                        dropped += older
                        audioSinceKey[audio] = newer
                    }
                }
                if isKey || !gop.isEmpty { gop.append(gst_buffer_ref(carrier)) }
            } else if !gop.isEmpty {
                audioSinceKey[track, default: []].append(gst_buffer_ref(carrier))
                if audioSinceKey[track]!.count > Self.gopLimit * 4 { dropped.append(audioSinceKey[track]!.removeFirst()) }
            }
            // One carrier per buffer, shared by reference by every PLAY appsrc; pushed under the
            // lock so that it never overtakes what the pacer releases.
            for media in medias {
                media.ensureCaps(caps[track], track: track)
                media.offer(carrier, track: track)
            }
            recorder?.ensureCaps(caps[track], track: track)
            recorder?.offer(carrier, track: track, isKey: isKey)
        }
        dropped.forEach(unref)
        if becameLive {
            startRecording()
            onLive?(self)
        }
    }

    /// The room just went live: its recording starts from the cached runs.
    private func startRecording() {
        guard let recording, let plan = trackPlan else { return }
        let made: RoomRecorder
        do {
            made = try RoomRecorder(room: room, plan: plan, caps: lock.withLock { caps }, settings: recording)
        } catch {
            onRecordingFailed?(self, error)
            return
        }
        made.onDrops = { [weak self] count in
            guard let self else { return }
            self.onDrops?(self, "the recording", count)
        }
        made.onError = { [weak self] message in
            guard let self else { return }
            self.onRecordingFailed?(self, RoomRecorder.Failure.cannotBuild(message))
        }
        lock.withLock {
            guard recordMedia != nil else { return }
            recorder = made
            for (track, run) in cachedRuns() {
                for buffer in run {
                    made.offer(buffer, track: track, isKey: buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0)
                }
            }
        }
    }

    /// Ends the room's recording now, its files finished (the server is stopping).
    func finishRecording() {
        let recorded = lock.withLock { () -> RoomRecorder? in
            defer { recorder = nil }
            return recorder
        }
        recorded?.finish()
    }

    /// The files of the current recording so far.
    var recordedFiles: [String] { lock.withLock { recorder?.recordedFiles ?? [] } }

    /// The runs a viewer starts with, by track (lock held).
    private func cachedRuns() -> [Int: [UnsafeMutablePointer<GstBuffer>]] {
        var runs = audioSinceKey
        if let video = plan?.videoTrack { runs[video] = gop }
        return runs
    }

    /// Releases what starting viewers are due, every 10 ms while one of them is catching up.
    private var pacer: DispatchSourceTimer?
    /// Which pacer is current: a stopped timer may still deliver a tick already queued.
    private var pacerGeneration = 0

    private func pacing(_ on: Bool) {
        if on, pacer == nil {
            pacerGeneration += 1
            let generation = pacerGeneration
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now(), repeating: .milliseconds(10))
            timer.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.withLock {
                    guard self.pacer != nil, self.pacerGeneration == generation else { return }
                    self.medias.forEach { $0.release() }
                    if !self.medias.contains(where: \.isCatchingUp) { self.pacing(false) }
                }
            }
            timer.resume()
            pacer = timer
        } else if !on, let timer = pacer {
            timer.cancel()
            pacer = nil
        }
    }

    /// A GOP longer than this is not kept (viewers then start at the next key frame).
    private static let gopLimit = 300

    private func unref(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        gst_mini_object_unref(UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: GstMiniObject.self))
    }

    private static func absolute(_ time: GstClockTime, base: GstClockTime) -> GstClockTime {
        time == GstClockTime.max ? time : time &+ base
    }

    /// On a PLAY video appsrc's pad: clock times (offset fields) → this media's running time,
    /// video held back until a key frame (`PlayGate`).
    private static let retimeVideo: GstPadProbeCallback = { pad, info, data in
        retime(pad, info, data) { gate, buffer, base in
            let isKey = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
            return gate.video(pts: buffer.pointee.offset, dts: buffer.pointee.offset_end, isKey: isKey, base: base)
        }
    }

    private static let retimeAudio: GstPadProbeCallback = { pad, info, data in
        retime(pad, info, data) { gate, buffer, base in
            gate.audio(pts: buffer.pointee.offset, dts: buffer.pointee.offset_end, base: base)
        }
    }

    private static func retime(_ pad: UnsafeMutablePointer<GstPad>?, _ info: UnsafeMutablePointer<GstPadProbeInfo>?, _ data: gpointer?,
                               _ times: (PlayGate, UnsafeMutablePointer<GstBuffer>, GstClockTime) -> (pts: GstClockTime, dts: GstClockTime)?)
        -> GstPadProbeReturn {
        guard let info, let payload = info.pointee.data, let data else { return GST_PAD_PROBE_OK }
        let gate = Unmanaged<PlayGate>.fromOpaque(data).takeUnretainedValue()
        let element = gst_pad_get_parent_element(pad)
        defer { if let element { gst_object_unref(element) } }
        let base = element.map { gst_element_get_base_time($0) } ?? 0
        let writable = gst_mini_object_make_writable(payload.assumingMemoryBound(to: GstMiniObject.self))!
        info.pointee.data = UnsafeMutableRawPointer(writable)
        let buffer = UnsafeMutableRawPointer(writable).assumingMemoryBound(to: GstBuffer.self)
        guard let running = times(gate, buffer, base) else { return GST_PAD_PROBE_DROP }
        buffer.pointee.pts = running.pts
        buffer.pointee.dts = running.dts
        buffer.pointee.offset = guint64.max
        buffer.pointee.offset_end = guint64.max
        return GST_PAD_PROBE_OK
    }

    /// Asks the publisher for a key frame (an upstream force-key-unit event into the RECORD
    /// pipeline; only publishers that honour RTCP feedback could answer it).
    func requestKeyUnit() {
        let sink = lock.withLock { () -> Element? in
            guard let video = plan?.videoTrack, video < recordSinks.count else { return nil }
            return gst_object_ref(recordSinks[video]).map { $0.assumingMemoryBound(to: GstElement.self) }
        }
        guard let sink else { return }
        defer { gst_object_unref(sink) }
        guard let pad = gst_element_get_static_pad(sink, "sink") else { return }
        defer { gst_object_unref(pad) }
        if let event = gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0) {
            _ = gst_pad_push_event(pad, event)
        }
    }

    // MARK: PLAY side

    /// How far back a PLAY pipeline's time starts: the clock times of a whole cached GOP map
    /// to positive running times.
    private static let playTimeOrigin: GstClockTime = 30_000_000_000

    /// A viewer's media was built: feed its appsrcs for as long as the media exists, starting
    /// with the cached GOP. Pushing into a stopped appsrc drops the buffer.
    func attachPlay(_ media: UnsafeMutablePointer<GstRTSPMedia>) {
        guard let bin = gst_rtsp_media_get_element(media) else { return }
        defer { gst_object_unref(bin) }
        guard let parent = gst_object_get_parent(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstObject.self)) else { return }
        defer { gst_object_unref(parent) }
        let playMedia = attachViewer(kind: .rtsp, bin: bin, pipeline: UnsafeMutableRawPointer(parent).assumingMemoryBound(to: GstElement.self))
        let detach = PlayDetach(bridge: self, media: playMedia)
        g_object_weak_ref(UnsafeMutableRawPointer(media).assumingMemoryBound(to: GObject.self), { data, _ in
            Unmanaged<PlayDetach>.fromOpaque(data!).takeRetainedValue().mediaGone()
        }, Unmanaged.passRetained(detach).toOpaque())
    }

    /// A browser's pipeline (appsrcs `srcN` in `pipeline`) is connected: feed it, from the
    /// cached GOP, until `detach`.
    func attachWebRTC(pipeline: Element) -> PlayMedia {
        attachViewer(kind: .webrtc, bin: pipeline, pipeline: nil)
    }

    func detach(_ media: PlayMedia) { forget(media) }

    /// The caps of `track` as the publisher sent it (a new reference), once known.
    func caps(track: Int) -> UnsafeMutablePointer<GstCaps>? {
        lock.withLock {
            guard track < caps.count, let known = caps[track] else { return nil }
            return gst_mini_object_ref(UnsafeMutableRawPointer(known).assumingMemoryBound(to: GstMiniObject.self))?
                .withMemoryRebound(to: GstCaps.self, capacity: 1) { $0 }
        }
    }

    /// A copy of the room's latest key frame (times still in the offset fields), if kept.
    func latestKeyFrame() -> UnsafeMutablePointer<GstBuffer>? {
        lock.withLock { gop.first.flatMap { gst_buffer_copy($0) } }
    }

    /// A browser's pipeline keeps the same time origin as PLAY pipelines (set before it runs).
    func timeViewerPipeline(_ pipeline: Element) { startTimeEarlier(pipeline) }

    /// `pipeline`: timed here (nil when it already was, before it started).
    private func attachViewer(kind: PlayMedia.Kind, bin: Element, pipeline: Element?) -> PlayMedia {
        let codecs = lock.withLock { plan?.codecs ?? [] }
        let sources: [Element?] = codecs.indices.map {
            gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "src\($0)")
        }
        if let pipeline { startTimeEarlier(pipeline) }
        let playMedia = PlayMedia(kind: kind, sources: sources) { [weak self] count in
            guard let self else { return }
            self.onDrops?(self, "a viewer", count)
        }
        for (index, source) in sources.enumerated() {
            guard let source, let pad = gst_element_get_static_pad(source, "src") else { continue }
            _ = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, codecs[index].isVideo ? RoomBridge.retimeVideo : RoomBridge.retimeAudio,
                                  Unmanaged.passRetained(playMedia.gate).toOpaque(), { Unmanaged<PlayGate>.fromOpaque($0!).release() })
            gst_object_unref(pad)
        }
        lock.withLock {
            for index in sources.indices where index < caps.count { playMedia.ensureCaps(caps[index], track: index) }
            medias.append(playMedia)
            // In order: the cached runs first, then whatever `forward` offers next.
            playMedia.start(with: cachedRuns())
            pacing(true)
        }
        return playMedia
    }

    /// The PLAY pipeline's time starts `playTimeOrigin` before now and stays there (no new base
    /// time at PLAYING, nor after a pause), so the clock times this bridge carries map to
    /// running times by a plain shift: nothing just captured is early, nothing is negative.
    private func startTimeEarlier(_ pipeline: Element) {
        let clock = gst_system_clock_obtain()!
        defer { gst_object_unref(clock) }
        pipeline.withMemoryRebound(to: GstPipeline.self, capacity: 1) { gst_pipeline_use_clock($0, clock) }
        gst_element_set_start_time(pipeline, GstClockTime.max)
        let now = gst_clock_get_time(clock)
        gst_element_set_base_time(pipeline, now > Self.playTimeOrigin ? now - Self.playTimeOrigin : 0)
    }

    fileprivate func forget(_ media: PlayMedia) {
        let attached = lock.withLock { () -> Bool in
            guard medias.contains(where: { $0 === media }) else { return false }
            medias.removeAll { $0 === media }
            bytesSentByGone += media.bytesSent
            return true
        }
        if attached { media.sources.compactMap { $0 }.forEach { gst_object_unref($0) } }
    }

}

/// One RECORD appsink's track number, for its callback.
private final class TrackTap {
    let bridge: RoomBridge
    let track: Int
    init(bridge: RoomBridge, track: Int) {
        self.bridge = bridge
        self.track = track
    }
}

/// Drops a PLAY media's sources from its bridge when the media is finalised.
private final class PlayDetach {
    let bridge: RoomBridge
    let media: PlayMedia
    init(bridge: RoomBridge, media: PlayMedia) {
        self.bridge = bridge
        self.media = media
    }
    func mediaGone() { bridge.forget(media) }
}
