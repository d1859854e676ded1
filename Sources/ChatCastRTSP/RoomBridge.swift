import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer
import ChatCastSEI
import Foundation
import Locking

/// One room's published stream carried, in process, from its RECORD media to its viewers'
/// PLAY media (gst-rtsp-server does not do this by itself): each track's buffers leave the
/// RECORD pipeline's appsink `trackN` and enter every PLAY pipeline's appsrc `srcN`,
/// carrying clock times that each PLAY media turns into its running time (`PlayGate`).
/// Each viewer has a media of its own, started at the room's latest key frame with the
/// frames since (a picture at once, whatever the publisher's GOP, decodable by any player,
/// with the publisher's own timing), and started again at a key frame when it resumes.
///
/// Its lock guards bookkeeping only: which buffers each viewer and the recording get, and in
/// which order, is decided under it, and they are pushed after it is let go (`PlayMedia`,
/// `RoomRecorder`); callbacks, EOS and drop reports also run with no lock held.
final class RoomBridge: Sendable {
    /// What the bridge tells its server; each runs with no lock held.
    struct Hooks: Sendable {
        /// The room can be watched (the publisher's first key frame, or first buffer without video).
        var live: @Sendable (RoomBridge) -> Void = { _ in }
        /// The publisher's media is gone.
        var ended: @Sendable (RoomBridge) -> Void = { _ in }
        /// A recording could not start or stopped on an error (the room still plays).
        var recordingFailed: @Sendable (RoomBridge, Error) -> Void = { _, _ in }
        /// A bounded queue dropped buffers: who ("a viewer", "the recording") and how many so far.
        var drops: @Sendable (RoomBridge, String, Int) -> Void = { _, _, _ in }
    }

    /// The publisher's RECORD media and its appsinks, while it feeds the room.
    private struct Publisher: Sendable {
        let media: SharedObject<GstRTSPMedia>
        let sinks: [SharedElement]
    }

    private struct State {
        /// What the current (or next) publisher's ANNOUNCE offered.
        var plan: TrackPlan?
        /// The URL the publisher used (for the room's topic).
        var publishedURL = ""
        /// When an ANNOUNCE last named this room (rooms nobody feeds are pruned after a while).
        var announcedAt = Date()
        /// The connection whose ANNOUNCE the room is waiting on (an opaque identity).
        var announcer: UInt = 0
        var publisher: Publisher?
        var caps: [SharedCaps?] = []
        /// The video since its latest key frame (parameter sets in band), and each audio
        /// track's buffers since then: a viewer starts with them, sound and picture from the
        /// same moment.
        var gop: [SharedBuffer] = []
        var audioSinceKey: [Int: [SharedBuffer]] = [:]
        var medias: [PlayMedia] = []
        var recorder: RoomRecorder?
        var live = false
        var wentLive: Date?
        var accessUnits = 0
        var bytes = 0
        /// Payload bytes handed to viewers that have gone (those still watching count their own).
        var bytesSentByGone = 0
        /// The publisher's frame and bit rates over the last seconds.
        var rates = RateWindow()
        /// ChatCast envelopes seen in the video, and what readers of them would drop.
        var seiCounts = SEICounts()
        /// Releases what starting viewers are due, every 10 ms while one of them catches up.
        var pacer: RepeatingTimer?
        /// Which pacer is current: a cancelled timer may still deliver a tick already queued.
        var pacerGeneration = 0
        /// When the pacer last ticked, how often it came late, and its longest gap so far.
        var lastTick: UInt64 = 0
        var lateTicks = 0
        var longestTickGap: UInt64 = 0

        /// The runs a viewer starts with, by track.
        var cachedRuns: [Int: [SharedBuffer]] {
            var runs = audioSinceKey
            if let video = plan?.videoTrack { runs[video] = gop }
            return runs
        }
    }

    let path: String
    let room: String
    /// Where and how the room is recorded while live (nil: not recorded).
    private let recording: RoomRecorder.Settings?
    private let hooks: Hooks
    private let state = Mutex(State())

    /// Pacers of every room tick here, apart from the threads that answer WHEP offers and
    /// serve RTSP clients, so neither can make a starting viewer late.
    private static let pacerQueue = DispatchQueue(label: "chatcast.pacer", qos: .userInteractive)

    init(path: String, recording: RoomRecorder.Settings?, hooks: Hooks) {
        self.path = path
        room = String(path.dropFirst())
        self.recording = recording
        self.hooks = hooks
    }

    /// True from the publisher's first key frame until its media is gone.
    var isLive: Bool { state.withLock { $0.live } }

    /// True while a publisher's RECORD media feeds this room.
    var hasPublisher: Bool { state.withLock { $0.publisher != nil } }

    /// Whether nobody has fed or announced this room for `seconds`.
    func isIdle(for seconds: Double) -> Bool {
        state.withLock { $0.publisher == nil && !$0.live && $0.announcedAt.timeIntervalSinceNow < -seconds }
    }

    /// An ANNOUNCE of `client` names this room; false when a publisher already feeds it.
    func announced(by client: UInt) -> Bool {
        state.withLock { s in
            s.announcedAt = Date()
            s.announcer = client
            return s.publisher == nil
        }
    }

    /// Whether the room still waits on `client`'s ANNOUNCE and has not gone live.
    func isAwaitingPublisher(_ client: UInt) -> Bool { state.withLock { $0.announcer == client && !$0.live } }

    /// The next publisher's tracks and the URL it used (set at its ANNOUNCE).
    func prepare(plan: TrackPlan, publishedURL: String?) {
        state.withLock { s in
            s.plan = plan
            if let publishedURL { s.publishedURL = publishedURL }
        }
    }

    /// The tracks the next RECORD media is built for.
    var trackPlan: TrackPlan? { state.withLock { $0.plan } }
    var publishedURL: String { state.withLock { $0.publishedURL } }

    /// What the metrics show of this room.
    var statistics: RoomStatistics {
        state.withLock { s in
            let now = DispatchTime.now().uptimeNanoseconds
            return RoomStatistics(room: room, live: s.live, rtspViewers: s.medias.filter { $0.kind == .rtsp }.count,
                                  webrtcViewers: s.medias.filter { $0.kind == .webrtc }.count,
                                  framesReceived: s.accessUnits, bytesReceived: s.bytes,
                                  bytesSent: s.bytesSentByGone + s.medias.reduce(0) { $0 + $1.bytesSent },
                                  frameRate: s.rates.frameRate(now: now), bitRate: s.rates.bitRate(now: now), sei: s.seiCounts,
                                  liveSince: s.live ? s.wentLive : nil, pacerLateTicks: s.lateTicks,
                                  pacerLongestGapSeconds: Double(s.longestTickGap) / 1e9)
        }
    }

    // MARK: RECORD side

    /// A publisher's media was built: take its appsinks. Returns false (and leaves the media
    /// alone) when another publisher already feeds the room.
    func attachRecord(_ media: UnsafeMutablePointer<GstRTSPMedia>) -> Bool {
        guard let bin = gst_rtsp_media_get_element(media) else { return false }
        defer { gst_object_unref(bin) }
        let trackCount = state.withLock { $0.plan?.codecs.count ?? 0 }
        let sinks = (0..<trackCount).compactMap {
            gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "track\($0)").map(SharedElement.init(taking:))
        }
        let taken = state.withLock { s -> Bool in
            guard s.publisher == nil, sinks.count == trackCount, trackCount > 0 else { return false }
            s.publisher = Publisher(media: SharedObject(adding: media), sinks: sinks)
            s.caps = Array(repeating: nil, count: trackCount)
            return true
        }
        guard taken else { return false }
        for (index, sink) in sinks.enumerated() {
            var callbacks = GstAppSinkCallbacks()
            callbacks.new_sample = { appsink, data in
                guard let appsink, let data else { return GST_FLOW_OK }
                let tap = Unmanaged<TrackTap>.fromOpaque(data).takeUnretainedValue()
                guard let sample = gst_app_sink_pull_sample(appsink) else { return GST_FLOW_EOS }
                defer { gst_mini_object_unref(UnsafeMutableRawPointer(sample).assumingMemoryBound(to: GstMiniObject.self)) }
                let base = appsink.withMemoryRebound(to: GstElement.self, capacity: 1) { gst_element_get_base_time($0) }
                tap.bridge?.forward(sample, track: tap.track, recordBase: base)
                return GST_FLOW_OK
            }
            let tap = Unmanaged.passRetained(TrackTap(bridge: self, track: index)).toOpaque()
            sink.pointer.withMemoryRebound(to: GstAppSink.self, capacity: 1) {
                gst_app_sink_set_callbacks($0, &callbacks, tap, { Unmanaged<TrackTap>.fromOpaque($0!).release() })
            }
        }
        connectSignal(media, "unprepared", unsafeBitCast(RoomBridge.recordUnprepared, to: GCallback.self), to: self)
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
        guard let media = state.withLock({ $0.live ? nil : $0.publisher?.media }) else { return }
        _ = gst_rtsp_media_unprepare(media.pointer)
    }

    private static let recordUnprepared: @convention(c) (UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { media, data in
        WeakBox.object(data, as: RoomBridge.self)?.publisherGone(media)
    }

    private func publisherGone(_ media: UnsafeMutablePointer<GstRTSPMedia>?) {
        let gone = state.withLock { s -> (wasLive: Bool, viewers: [PlayMedia], recorder: RoomRecorder?, cached: [SharedBuffer],
                                          publisher: Publisher)? in
            guard let publisher = s.publisher, publisher.media.pointer == media else { return nil }
            // Viewers still attached see the end of the stream rather than a stall.
            s.medias.forEach { $0.end() }
            // The media, its sinks and the cached runs are let go once the lock is: their last
            // references may finalize objects.
            let result = (s.live, s.medias, s.recorder, s.gop + s.audioSinceKey.values.joined(), publisher)
            s.gop = []
            s.audioSinceKey = [:]
            s.caps = []
            s.recorder = nil
            s.publisher = nil
            s.live = false
            return result
        }
        guard let gone else { return }
        gone.viewers.forEach { $0.push() }
        gone.recorder?.finishInBackground()
        if gone.wasLive { hooks.ended(self) }
    }

    private func forward(_ sample: OpaquePointer, track: Int, recordBase: GstClockTime) {
        guard let buffer = gst_sample_get_buffer(sample), let copy = gst_buffer_copy(buffer) else { return }
        let size = Int(gst_buffer_get_size(buffer))
        let isKey = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
        // Clock times travel in the offset fields; each PLAY media turns them into its
        // running time as the buffer leaves its appsrc (`PlayGate`).
        copy.pointee.offset = Self.absolute(buffer.pointee.pts, base: recordBase)
        copy.pointee.offset_end = Self.absolute(buffer.pointee.dts, base: recordBase)
        copy.pointee.pts = GstClockTime.max
        copy.pointee.dts = GstClockTime.max
        // One carrier per buffer, shared by reference by every viewer.
        let carrier = SharedBuffer(taking: copy)
        let sampleCaps = gst_sample_get_caps(sample).map(SharedCaps.init(adding:))
        let codec = trackPlan.flatMap { track < $0.codecs.count ? $0.codecs[track] : nil }
        let sei = codec?.isVideo == true ? SEICounts.of(buffer, codec: codec == .h265 ? .h265 : .h264) : SEICounts()

        let outcome = state.withLock { s -> (becameLive: Bool, consumers: [PlayMedia], recorder: RoomRecorder?, dropped: [SharedBuffer])? in
            guard let publisher = s.publisher, track < publisher.sinks.count else { return nil }
            if s.caps[track] == nil { s.caps[track] = sampleCaps }
            let videoTrack = s.plan?.videoTrack
            var becameLive = false
            if !s.live && (videoTrack == nil || (track == videoTrack && isKey)) {
                s.live = true
                s.wentLive = Date()
                becameLive = true
            }
            if track == videoTrack {
                s.accessUnits += 1
                s.seiCounts.add(sei)
            }
            s.bytes += size
            s.rates.add(bytes: size, frames: track == videoTrack ? 1 : 0, now: DispatchTime.now().uptimeNanoseconds)
            var dropped: [SharedBuffer] = []
            if track == videoTrack {
                // Only a run that starts at a key frame is kept, and not an endless one.
                if isKey || s.gop.count >= Self.gopLimit {
                    dropped = s.gop
                    s.gop = []
                    let start = isKey ? carrier.clockPTS : GstClockTime.max
                    for (audio, buffers) in s.audioSinceKey {
                        dropped += buffers.filter { $0.clockPTS < start }
                        s.audioSinceKey[audio] = buffers.filter { $0.clockPTS >= start }
                    }
                }
                if isKey || !s.gop.isEmpty { s.gop.append(carrier) }
            } else if !s.gop.isEmpty {
                s.audioSinceKey[track, default: []].append(carrier)
                if s.audioSinceKey[track]!.count > Self.gopLimit * 4 { dropped.append(s.audioSinceKey[track]!.removeFirst()) }
            }
            // Decided here, in order; pushed below, with no lock held.
            for media in s.medias {
                media.ensureCaps(s.caps[track], track: track)
                media.offer(carrier, track: track)
            }
            s.recorder?.ensureCaps(s.caps[track], track: track)
            s.recorder?.offer(carrier, track: track)
            return (becameLive, s.medias, s.recorder, dropped)
        }
        guard let outcome else { return }
        outcome.consumers.forEach { $0.push() }
        outcome.recorder?.push()
        if outcome.becameLive {
            startRecording()
            hooks.live(self)
        }
    }

    /// The room just went live: its recording starts from the cached runs.
    private func startRecording() {
        guard let recording, let plan = trackPlan else { return }
        let made: RoomRecorder
        do {
            made = try RoomRecorder(room: room, plan: plan, caps: state.withLock { $0.caps }, settings: recording,
                                    onDrops: { [weak self] count in
                                        guard let self else { return }
                                        self.hooks.drops(self, "the recording", count)
                                    },
                                    onError: { [weak self] message in
                                        guard let self else { return }
                                        self.hooks.recordingFailed(self, RoomRecorder.Failure.cannotBuild(message))
                                    })
        } catch {
            hooks.recordingFailed(self, error)
            return
        }
        let started = state.withLock { s -> Bool in
            guard s.publisher != nil else { return false }
            s.recorder = made
            for (track, run) in s.cachedRuns {
                for buffer in run { made.offer(buffer, track: track) }
            }
            return true
        }
        if started { made.push() }
    }

    /// Ends the room's recording now, its files finished (the server is stopping).
    func finishRecording() {
        let recorded = state.withLock { s -> RoomRecorder? in
            defer { s.recorder = nil }
            return s.recorder
        }
        recorded?.finish()
    }

    /// The files of the current recording so far.
    var recordedFiles: [String] { state.withLock { $0.recorder }?.recordedFiles ?? [] }

    /// Starts the pacer if it is not running (lock held).
    private func startPacing(_ s: inout State) {
        guard s.pacer == nil else { return }
        s.pacerGeneration += 1
        s.lastTick = DispatchTime.now().uptimeNanoseconds
        let generation = s.pacerGeneration
        s.pacer = RepeatingTimer(queue: Self.pacerQueue, every: .milliseconds(10)) { [weak self] in self?.pace(generation) }
    }

    private func pace(_ generation: Int) {
        let due = state.withLock { s -> [PlayMedia] in
            guard s.pacer != nil, s.pacerGeneration == generation else { return [] }
            let now = DispatchTime.now().uptimeNanoseconds
            let gap = now &- s.lastTick
            s.lastTick = now
            s.longestTickGap = max(s.longestTickGap, gap)
            if gap > Self.lateTick { s.lateTicks += 1 }
            s.medias.forEach { $0.release() }
            if !s.medias.contains(where: \.isCatchingUp) {
                s.pacer?.cancel()
                s.pacer = nil
            }
            return s.medias
        }
        due.forEach { $0.push() }
    }

    /// The pacer ticks every 10 ms; a gap this long means something kept it waiting (a
    /// starting viewer then gets its cached run late, in bursts).
    static let lateTick: UInt64 = 50_000_000

    /// A GOP longer than this is not kept (viewers then start at the next key frame).
    private static let gopLimit = 300

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
        let sink = state.withLock { s -> SharedElement? in
            guard let video = s.plan?.videoTrack, let sinks = s.publisher?.sinks, video < sinks.count else { return nil }
            return sinks[video]
        }
        guard let sink, let pad = gst_element_get_static_pad(sink.pointer, "sink") else { return }
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
    func attachWebRTC(pipeline: UnsafeMutablePointer<GstElement>) -> PlayMedia {
        attachViewer(kind: .webrtc, bin: pipeline, pipeline: nil)
    }

    func detach(_ media: PlayMedia) { forget(media) }

    /// The caps of `track` as the publisher sent it, once known.
    func caps(track: Int) -> SharedCaps? {
        state.withLock { track < $0.caps.count ? $0.caps[track] : nil }
    }

    /// A copy of the room's latest key frame (times still in the offset fields), if kept.
    func latestKeyFrame() -> SharedBuffer? {
        state.withLock { $0.gop.first }.flatMap { gst_buffer_copy($0.pointer) }.map(SharedBuffer.init(taking:))
    }

    /// A browser's pipeline keeps the same time origin as PLAY pipelines (set before it runs).
    func timeViewerPipeline(_ pipeline: UnsafeMutablePointer<GstElement>) { startTimeEarlier(pipeline) }

    /// `pipeline`: timed here (nil when it already was, before it started).
    private func attachViewer(kind: PlayMedia.Kind, bin: UnsafeMutablePointer<GstElement>,
                              pipeline: UnsafeMutablePointer<GstElement>?) -> PlayMedia {
        let codecs = trackPlan?.codecs ?? []
        let sources: [SharedElement?] = codecs.indices.map {
            gst_bin_get_by_name(UnsafeMutableRawPointer(bin).assumingMemoryBound(to: GstBin.self), "src\($0)").map(SharedElement.init(taking:))
        }
        if let pipeline { startTimeEarlier(pipeline) }
        let playMedia = PlayMedia(kind: kind, sources: sources) { [weak self] count in
            guard let self else { return }
            self.hooks.drops(self, "a viewer", count)
        }
        for (index, source) in sources.enumerated() {
            guard let source, let pad = gst_element_get_static_pad(source.pointer, "src") else { continue }
            _ = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, codecs[index].isVideo ? RoomBridge.retimeVideo : RoomBridge.retimeAudio,
                                  Unmanaged.passRetained(playMedia.gate).toOpaque(), { Unmanaged<PlayGate>.fromOpaque($0!).release() })
            gst_object_unref(pad)
        }
        state.withLock { s in
            for index in sources.indices where index < s.caps.count { playMedia.ensureCaps(s.caps[index], track: index) }
            s.medias.append(playMedia)
            // In order: the cached runs first, then whatever `forward` offers next.
            playMedia.start(with: s.cachedRuns)
            startPacing(&s)
        }
        playMedia.push()
        return playMedia
    }

    /// The PLAY pipeline's time starts `playTimeOrigin` before now and stays there (no new base
    /// time at PLAYING, nor after a pause), so the clock times this bridge carries map to
    /// running times by a plain shift: nothing just captured is early, nothing is negative.
    private func startTimeEarlier(_ pipeline: UnsafeMutablePointer<GstElement>) {
        let clock = gst_system_clock_obtain()!
        defer { gst_object_unref(clock) }
        pipeline.withMemoryRebound(to: GstPipeline.self, capacity: 1) { gst_pipeline_use_clock($0, clock) }
        gst_element_set_start_time(pipeline, GstClockTime.max)
        let now = gst_clock_get_time(clock)
        gst_element_set_base_time(pipeline, now > Self.playTimeOrigin ? now - Self.playTimeOrigin : 0)
    }

    fileprivate func forget(_ media: PlayMedia) {
        state.withLock { s in
            guard s.medias.contains(where: { $0 === media }) else { return }
            s.medias.removeAll { $0 === media }
            s.bytesSentByGone += media.bytesSent
        }
    }
}

/// One RECORD appsink's track number, for its callback; the bridge is not kept alive by it.
private final class TrackTap: Sendable {
    weak let bridge: RoomBridge?
    let track: Int
    init(bridge: RoomBridge, track: Int) {
        self.bridge = bridge
        self.track = track
    }
}

/// Drops a PLAY media's sources from its bridge when the media is finalised.
private final class PlayDetach: Sendable {
    let bridge: RoomBridge
    let media: PlayMedia
    init(bridge: RoomBridge, media: PlayMedia) {
        self.bridge = bridge
        self.media = media
    }
    func mediaGone() { bridge.forget(media) }
}
