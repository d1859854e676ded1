import CGStreamer
import CGstRTSPGlue
import CGstWebRTCGlue
import Foundation

/// One browser watching a room over WebRTC (a WHEP session): its own pipeline of appsrcs,
/// payloaders and a webrtcbin, fed by the room's bridge from the moment the peer connection
/// is up (so the first thing it gets is the room's latest key frame), torn down on DELETE,
/// when the connection fails, or when the room ends. Everything that waits on GStreamer
/// runs on `queue`, never on a caller's event loop.
final class WebRTCViewer: @unchecked Sendable {
    typealias Element = UnsafeMutablePointer<GstElement>

    enum Failure: Error {
        case badOffer(String)
        case cannotBuild(String)
    }

    let id: String
    let bridge: RoomBridge
    /// Runs once, on `queue`, when the session is over for any reason.
    var onEnded: (@Sendable (WebRTCViewer) -> Void)?
    /// The browser asked for a key frame (a PLI or FIR); at most once a second.
    var onKeyFrameWanted: (@Sendable () -> Void)?

    private let queue: DispatchQueue
    private let lock = NSLock()
    private var pipeline: Element?
    private var media: PlayMedia?
    private var ended = false
    private var lastKeyRequest: UInt64 = 0
    private var selfReference: Unmanaged<WebRTCViewer>?
    /// The envelopes' way to a browser that opened a data channel (kept for the pipeline's life).
    private let envelopes = WebRTCEnvelopeChannel()

    init(id: String, bridge: RoomBridge, queue: DispatchQueue) {
        self.id = id
        self.bridge = bridge
        self.queue = queue
    }

    /// Builds the pipeline for `offer`, links each payloader to the m= section of its kind,
    /// and returns the complete answer (every ICE candidate in it). Blocks: call on `queue`.
    func answer(offer: String, plan: TrackPlan, stunServer: String?, turnServers: [String], connectTimeout: Double) throws -> String {
        var kinds = [CChar](repeating: 0, count: 16)
        let sections = cgst_webrtc_offer_kinds(offer, &kinds, 16)
        guard sections > 0 else { throw Failure.badOffer("the body is not an SDP offer") }
        let kindList = kinds.prefix(Int(min(sections, 16))).map { UInt8(bitPattern: $0) }
        guard let videoSection = kindList.firstIndex(of: UInt8(ascii: "v")) else {
            throw Failure.badOffer("the offer has no video section")
        }
        let videoPayload = cgst_webrtc_offer_payload(offer, guint(videoSection), "H264")
        guard videoPayload >= 0 else { throw Failure.badOffer("the offer's video takes no H.264 (packetization mode 1)") }
        var audioSection = kindList.firstIndex(of: UInt8(ascii: "a"))
        let audioPayload = audioSection.map { Int(cgst_webrtc_offer_payload(offer, guint($0), "OPUS")) }.flatMap { $0 >= 0 ? $0 : nil }
        if audioPayload == nil { audioSection = nil }
        let launch: String
        switch plan.webrtcLaunch(videoPayload: Int(videoPayload), audioPayload: audioPayload, stunServer: stunServer) {
        case let .success(text): launch = text
        case .failure: throw Failure.cannotBuild("the room's video is not H.264")
        }
        var error: UnsafeMutablePointer<GError>?
        guard let built = gst_parse_launch(launch, &error) else {
            defer { g_clear_error(&error) }
            throw Failure.cannotBuild(error.map { String(cString: $0.pointee.message) } ?? launch)
        }
        g_clear_error(&error)
        // 1.22 hands the top-level bin over already sunk; sinking it again would leak it (and
        // webrtcbin's threads with it).
        if g_object_is_floating(built) != 0 { _ = gst_object_ref_sink(built) }
        lock.withLock { pipeline = built }
        let bin = UnsafeMutableRawPointer(built).assumingMemoryBound(to: GstBin.self)
        guard let webrtc = gst_bin_get_by_name(bin, "webrtc") else { throw Failure.cannotBuild("no webrtcbin") }
        defer { gst_object_unref(webrtc) }
        turnServers.forEach { _ = cgst_webrtc_add_turn_server(webrtc, $0) }
        // The signal handlers and probes reach this object until `end` lets it go.
        lock.withLock { selfReference = Unmanaged.passRetained(self) }
        watchConnection(webrtc, connectTimeout: connectTimeout)
        bridge.timeViewerPipeline(built)

        gst_element_set_state(built, GST_STATE_READY)
        var message: UnsafeMutablePointer<gchar>?
        guard cgst_webrtc_set_offer(webrtc, offer, &message) != 0 else {
            defer { g_free(message) }
            throw Failure.badOffer(message.map { String(cString: $0) } ?? "webrtcbin refused the offer")
        }
        let tracks = plan.webrtcTracks
        try link(bin, payloader: tracks.video, to: webrtc, section: videoSection)
        if let audioSection, tracks.audio != nil {
            try link(bin, payloader: tracks.audio, to: webrtc, section: audioSection)
        }
        if let track = tracks.video {
            watchVideoSource(bin, track: track)
            if kindList.contains(UInt8(ascii: "d")), let pay = gst_bin_get_by_name(bin, "pay\(track)") {
                envelopes.attach(webrtc: webrtc, payloader: pay)
                gst_object_unref(pay)
            }
        }
        guard gst_element_set_state(built, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw Failure.cannotBuild("the pipeline does not start")
        }
        if let track = tracks.video { primeCaps(bin, payloader: track) }
        guard let answer = cgst_webrtc_answer(webrtc, 5000, &message) else {
            defer { g_free(message) }
            throw Failure.badOffer(message.map { String(cString: $0) } ?? "webrtcbin cannot answer the offer")
        }
        defer { g_free(answer) }
        // webrtcbin answers with the first format the offer lists that fits, not always the
        // one the payloader was given; nothing has flowed yet, so the payloaders follow it.
        if let track = tracks.video { follow(answer, section: videoSection, payloader: track, in: bin) }
        if let audioSection, let track = tracks.audio { follow(answer, section: audioSection, payloader: track, in: bin) }
        return String(cString: answer)
    }

    /// The video payloader's caps, SSRC included, fixed before the answer is made: webrtcbin
    /// 1.22 names a stream's SSRC in its answer only when its caps are known then, and without
    /// that (nor a MID header extension, which 1.22 does not add) Chromium cannot route the
    /// stream. rtph264pay sets its caps from the parameter sets it reads, so the room's latest
    /// key frame goes in once; it is sent before DTLS is up, hence dropped, and the viewer
    /// starts at that key frame again once connected.
    private func primeCaps(_ bin: UnsafeMutablePointer<GstBin>, payloader track: Int) {
        guard let caps = bridge.caps(track: track), let pay = gst_bin_get_by_name(bin, "pay\(track)") else { return }
        defer { gst_object_unref(pay); gst_mini_object_unref(UnsafeMutableRawPointer(caps).assumingMemoryBound(to: GstMiniObject.self)) }
        guard let pad = gst_element_get_static_pad(pay, "sink") else { return }
        defer { gst_object_unref(pad) }
        cgst_pad_prime(pad, caps)
        guard let key = bridge.latestKeyFrame(), let source = gst_element_get_static_pad(pay, "src") else { return }
        defer { gst_object_unref(source) }
        key.pointee.pts = 0
        key.pointee.dts = 0
        key.pointee.offset = guint64.max
        key.pointee.offset_end = guint64.max
        // webrtcbin holds buffers until its answer is set: pushed from elsewhere, and waited
        // for only until the payloader's caps have reached it.
        let sinkPad = UnsafeMutableRawPointer(gst_object_ref(pad)!)
        DispatchQueue.global().async {
            let held = sinkPad.assumingMemoryBound(to: GstPad.self)
            _ = gst_pad_chain(held, key)
            gst_object_unref(sinkPad)
        }
        let deadline = DispatchTime.now() + .seconds(2)
        while DispatchTime.now() < deadline {
            if let known = gst_pad_get_current_caps(source) {
                gst_mini_object_unref(UnsafeMutableRawPointer(known).assumingMemoryBound(to: GstMiniObject.self))
                return
            }
            usleep(2000)
        }
    }

    private func follow(_ answer: UnsafePointer<gchar>, section: Int, payloader track: Int, in bin: UnsafeMutablePointer<GstBin>) {
        let payload = cgst_sdp_first_payload(answer, guint(section))
        guard payload >= 0, let pay = gst_bin_get_by_name(bin, "pay\(track)") else { return }
        defer { gst_object_unref(pay) }
        cgst_object_set_uint(pay, "pt", guint(payload))
    }

    /// Ends the session (idempotent); on `queue`.
    func end() {
        let (built, fed, reference, wasEnded) = lock.withLock { () -> (Element?, PlayMedia?, Unmanaged<WebRTCViewer>?, Bool) in
            defer { ended = true; pipeline = nil; media = nil; selfReference = nil }
            return (pipeline, media, selfReference, ended)
        }
        guard !wasEnded else { return }
        if let fed { bridge.detach(fed) }
        if let built {
            gst_element_set_state(built, GST_STATE_NULL)
            gst_object_unref(built)
        }
        onEnded?(self)
        reference?.release()
    }

    private func link(_ bin: UnsafeMutablePointer<GstBin>, payloader track: Int?, to webrtc: Element, section: Int) throws {
        guard let track, let pay = gst_bin_get_by_name(bin, "pay\(track)") else { return }
        defer { gst_object_unref(pay) }
        guard let sink = gst_element_request_pad_simple(webrtc, "sink_\(section)"),
              let source = gst_element_get_static_pad(pay, "src") else {
            throw Failure.badOffer("the offer's section \(section) cannot take track \(track)")
        }
        defer { gst_object_unref(sink); gst_object_unref(source) }
        guard gst_pad_link(source, sink) == GST_PAD_LINK_OK else {
            throw Failure.badOffer("the offer's section \(section) does not take this room's track \(track)")
        }
    }

    // MARK: Events from GStreamer's threads

    private func connectionChanged(_ state: Int32) {
        switch state {
        case 2:  // connected: DTLS is up, so the cached key frame is not lost in the handshake
            let built = lock.withLock { () -> Element? in
                guard !ended, media == nil, let pipeline else { return nil }
                return gst_object_ref(pipeline).map { $0.assumingMemoryBound(to: GstElement.self) }
            }
            guard let built else { return }
            defer { gst_object_unref(built) }
            let fed = bridge.attachWebRTC(pipeline: built)
            let late = lock.withLock { () -> Bool in
                if ended { return true }
                media = fed
                return false
            }
            if late { bridge.detach(fed) }
        case 4, 5:  // failed, closed
            queue.async { self.end() }
        default: break
        }
    }

    private func watchConnection(_ webrtc: Element, connectTimeout: Double) {
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        _ = cgst_signal_connect(webrtc, "notify::connection-state", unsafeBitCast(Self.connectionNotify, to: GCallback.self), opaque)
        // webrtcbin 1.22's ICE has no consent freshness: a browser that vanishes leaves the
        // connection "connected". Its RTCP tells instead: a BYE, or silence past rtpbin's timeout.
        if let rtpbin = gst_bin_get_by_name(UnsafeMutableRawPointer(webrtc).assumingMemoryBound(to: GstBin.self), "rtpbin") {
            _ = cgst_signal_connect(rtpbin, "on-bye-ssrc", unsafeBitCast(Self.peerGone, to: GCallback.self), opaque)
            _ = cgst_signal_connect(rtpbin, "on-timeout", unsafeBitCast(Self.peerGone, to: GCallback.self), opaque)
            gst_object_unref(rtpbin)
        }
        // A browser that never connects (it left, or no candidate pair works) is let go.
        queue.asyncAfter(deadline: .now() + connectTimeout) { [weak self] in
            guard let self, self.lock.withLock({ !self.ended && self.media == nil }) else { return }
            self.end()
        }
    }

    private static let peerGone: @convention(c) (gpointer?, guint, guint, gpointer?) -> Void = { _, _, _, data in
        guard let data else { return }
        let viewer = Unmanaged<WebRTCViewer>.fromOpaque(data).takeUnretainedValue()
        viewer.queue.async { viewer.end() }
    }

    private static let connectionNotify: @convention(c) (gpointer?, gpointer?, gpointer?) -> Void = { webrtc, _, data in
        guard let webrtc, let data else { return }
        let viewer = Unmanaged<WebRTCViewer>.fromOpaque(data).takeUnretainedValue()
        viewer.connectionChanged(cgst_webrtc_connection_state(webrtc.assumingMemoryBound(to: GstElement.self)))
    }

    /// On the video appsrc's pad: the room's EOS ends the session, and the browser's key
    /// frame requests (PLI, FIR) go to the publisher. Not a bus sync handler for the EOS: with
    /// one set, 1.22's pipeline was never finalized after NULL (nor its webrtcbin and threads).
    private func watchVideoSource(_ bin: UnsafeMutablePointer<GstBin>, track: Int) {
        guard let source = gst_bin_get_by_name(bin, "src\(track)") else { return }
        defer { gst_object_unref(source) }
        guard let pad = gst_element_get_static_pad(source, "src") else { return }
        defer { gst_object_unref(pad) }
        _ = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_BOTH, { _, info, data in
            guard let info, let data, let event = info.pointee.data?.assumingMemoryBound(to: GstEvent.self) else { return GST_PAD_PROBE_OK }
            let viewer = Unmanaged<WebRTCViewer>.fromOpaque(data).takeUnretainedValue()
            if event.pointee.type == GST_EVENT_EOS {
                viewer.queue.async { viewer.end() }
            } else if gst_video_event_is_force_key_unit(event) != 0 {
                viewer.keyFrameWanted()
            }
            return GST_PAD_PROBE_OK
        }, Unmanaged.passUnretained(self).toOpaque(), nil)
    }

    private func keyFrameWanted() {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = lock.withLock { () -> Bool in
            guard now - lastKeyRequest > 1_000_000_000 else { return false }
            lastKeyRequest = now
            return true
        }
        guard due else { return }
        bridge.requestKeyUnit()
        onKeyFrameWanted?()
    }
}
