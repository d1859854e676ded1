import CGStreamer
import CGstRTSPGlue
import CGstWebRTCGlue
import Foundation
import Locking

/// One browser watching a room over WebRTC (a WHEP session): its own pipeline of appsrcs,
/// payloaders and a webrtcbin, fed by the room's bridge from the moment the peer connection
/// is up (so the first thing it gets is the room's latest key frame), torn down on DELETE,
/// when the connection fails, or when the room ends.
///
/// The answer is made in steps that never wait: each starts something in webrtcbin and
/// goes on, on `queue`, when webrtcbin calls back (or a deadline passes). Many browsers
/// arriving at once cost no parked threads.
final class WebRTCViewer: Sendable {
    enum Failure: Error {
        case badOffer(String)
        case cannotBuild(String)
    }

    /// How long webrtcbin may take to gather every ICE candidate before the answer goes
    /// out with those it has.
    static let gatheringSeconds = 5.0
    /// How long the payloader may take to fix its caps from the room's key frame.
    static let primingSeconds = 2.0
    /// An answer not made by then is a failure (webrtcbin stopped answering).
    static let answerSeconds = 15.0

    /// What the answer needs between its steps.
    private struct Answering {
        var plan: TrackPlan
        var videoSection: Int
        var audioSection: Int?
        var completion: @Sendable (Result<String, Failure>) -> Void
        var primed = false
        var gathered = false
    }

    private struct State {
        var pipeline: SharedElement?
        var webrtc: SharedElement?
        var media: PlayMedia?
        var ended = false
        var lastKeyRequest: UInt64 = 0
        var answering: Answering?
        /// Held from the answer on: signal handlers and probes reach this object until `end`.
        var selfReference: WebRTCViewer?
    }

    let id: String
    let bridge: RoomBridge
    private let queue: DispatchQueue
    private let onEnded: @Sendable (WebRTCViewer) -> Void
    private let onKeyFrameWanted: @Sendable () -> Void
    private let state = Mutex(State())
    /// The envelopes' way to a browser that opened a data channel (kept for the pipeline's life).
    private let envelopes = WebRTCEnvelopeChannel()

    /// `onEnded` runs once, on `queue`, when the session is over for any reason;
    /// `onKeyFrameWanted` when the browser asks for a key frame (a PLI or FIR), at most once a second.
    init(id: String, bridge: RoomBridge, queue: DispatchQueue, onEnded: @escaping @Sendable (WebRTCViewer) -> Void,
         onKeyFrameWanted: @escaping @Sendable () -> Void) {
        self.id = id
        self.bridge = bridge
        self.queue = queue
        self.onEnded = onEnded
        self.onKeyFrameWanted = onKeyFrameWanted
    }

    // MARK: The answer, step by step (each on `queue`)

    /// Builds the pipeline for `offer`, links each payloader to the m= section of its kind,
    /// and calls `completion` (on `queue`) with the complete answer (every ICE candidate in
    /// it) or why there is none. Call on `queue`.
    func answer(offer: String, plan: TrackPlan, stunServer: String?, turnServers: [String],
                completion: @escaping @Sendable (Result<String, Failure>) -> Void) {
        do {
            try begin(offer: offer, plan: plan, stunServer: stunServer, turnServers: turnServers, completion: completion)
        } catch let failure as Failure {
            fail(failure, completion: completion)
        } catch {
            fail(.cannotBuild("\(error)"), completion: completion)
        }
    }

    private func begin(offer: String, plan: TrackPlan, stunServer: String?, turnServers: [String],
                       completion: @escaping @Sendable (Result<String, Failure>) -> Void) throws {
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
        let pipeline = SharedElement(taking: built)
        let bin = UnsafeMutableRawPointer(built).assumingMemoryBound(to: GstBin.self)
        let webrtc = gst_bin_get_by_name(bin, "webrtc").map(SharedElement.init(taking:))
        state.withLock { s in
            s.pipeline = pipeline
            s.webrtc = webrtc
            s.selfReference = self
            s.answering = Answering(plan: plan, videoSection: videoSection, audioSection: audioSection, completion: completion)
        }
        guard let webrtc else { throw Failure.cannotBuild("no webrtcbin") }
        cgst_webrtc_disable_upnp(webrtc.pointer)
        turnServers.forEach { _ = cgst_webrtc_add_turn_server(webrtc.pointer, $0) }
        watchConnection(webrtc.pointer)
        bridge.timeViewerPipeline(built)
        if kindList.contains(UInt8(ascii: "d")), let track = plan.webrtcTracks.video,
           let pay = gst_bin_get_by_name(bin, "pay\(track)") {
            envelopes.attach(webrtc: webrtc.pointer, payloader: pay)
            gst_object_unref(pay)
        }
        gst_element_set_state(built, GST_STATE_READY)
        queue.asyncAfter(deadline: .now() + Self.answerSeconds) { [weak self] in
            self?.fail(.cannotBuild("webrtcbin did not answer within \(Int(Self.answerSeconds)) s"))
        }
        cgst_webrtc_set_offer_async(webrtc.pointer, offer, Self.stepDone, stepData { viewer, error in
            viewer.offerTaken(error: error)
        }, StepCallback.release)
    }

    /// webrtcbin took (or refused) the offer: link the payloaders, start, and prime the video's caps.
    private func offerTaken(error: String?) {
        if let error { return fail(.badOffer(error)) }
        guard let (pipeline, webrtc, answering) = current() else { return }
        let bin = UnsafeMutableRawPointer(pipeline.pointer).assumingMemoryBound(to: GstBin.self)
        let tracks = answering.plan.webrtcTracks
        do {
            try link(bin, payloader: tracks.video, to: webrtc.pointer, section: answering.videoSection)
            if let audioSection = answering.audioSection, tracks.audio != nil {
                try link(bin, payloader: tracks.audio, to: webrtc.pointer, section: audioSection)
            }
        } catch let failure as Failure {
            return fail(failure)
        } catch {
            return fail(.cannotBuild("\(error)"))
        }
        if let track = tracks.video { watchVideoSource(bin, track: track) }
        guard gst_element_set_state(pipeline.pointer, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            return fail(.cannotBuild("the pipeline does not start"))
        }
        guard let track = tracks.video, prime(bin, track: track) else { return primed() }
        queue.asyncAfter(deadline: .now() + Self.primingSeconds) { [weak self] in self?.primed() }
    }

    /// The video payloader's caps, SSRC included, are fixed before the answer is made:
    /// webrtcbin 1.22 names a stream's SSRC in its answer only when its caps are known then,
    /// and without that (nor a MID header extension, which 1.22 does not add) Chromium cannot
    /// route the stream. rtph264pay sets its caps from the parameter sets it reads, so the
    /// room's latest key frame goes in once, through the appsrc (whose thread webrtcbin holds
    /// until its answer is set); it is sent before DTLS is up, hence dropped, and the viewer
    /// starts at that key frame again once connected. False when there is nothing to wait for.
    private func prime(_ bin: UnsafeMutablePointer<GstBin>, track: Int) -> Bool {
        guard let caps = bridge.caps(track: track), let key = bridge.latestKeyFrame(),
              let source = gst_bin_get_by_name(bin, "src\(track)").map(SharedElement.init(taking:)),
              let pay = gst_bin_get_by_name(bin, "pay\(track)").map(SharedElement.init(taking:)),
              let paySource = gst_element_get_static_pad(pay.pointer, "src") else { return false }
        defer { gst_object_unref(paySource) }
        addProbe(paySource, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, { _, info, data in
            guard let event = info?.pointee.data?.assumingMemoryBound(to: GstEvent.self), event.pointee.type == GST_EVENT_CAPS
            else { return GST_PAD_PROBE_OK }
            if let viewer = WeakBox.object(data, as: WebRTCViewer.self) { viewer.queue.async { viewer.primed() } }
            return GST_PAD_PROBE_REMOVE
        }, to: self)
        let primed = key.newReference()
        primed.pointee.pts = 0
        primed.pointee.dts = 0
        primed.pointee.offset = guint64.max
        primed.pointee.offset_end = guint64.max
        source.pointer.withMemoryRebound(to: GstAppSrc.self, capacity: 1) {
            gst_app_src_set_caps($0, caps.pointer)
            _ = gst_app_src_push_buffer($0, primed)
        }
        return true
    }

    /// The payloader's caps are in (or the wait is over): ask webrtcbin for the answer.
    private func primed() {
        let go = state.withLock { s -> SharedElement? in
            guard !s.ended, s.answering != nil, s.answering?.primed == false else { return nil }
            s.answering?.primed = true
            return s.webrtc
        }
        guard let webrtc = go else { return }
        cgst_webrtc_answer_async(webrtc.pointer, Self.stepDone, stepData { viewer, error in
            viewer.answerSet(error: error)
        }, StepCallback.release)
    }

    /// The answer is the local description: wait until every candidate is in it.
    private func answerSet(error: String?) {
        if let error { return fail(.badOffer(error)) }
        guard let (_, webrtc, _) = current() else { return }
        connectSignal(webrtc.raw, "notify::ice-gathering-state", unsafeBitCast(Self.gatheringNotify, to: GCallback.self), to: self)
        if cgst_webrtc_ice_gathering_state(webrtc.pointer) == 2 { return gathered() }  // complete
        queue.asyncAfter(deadline: .now() + Self.gatheringSeconds) { [weak self] in self?.gathered() }
    }

    private static let gatheringNotify: @convention(c) (gpointer?, gpointer?, gpointer?) -> Void = { webrtc, _, data in
        guard let webrtc, cgst_webrtc_ice_gathering_state(webrtc.assumingMemoryBound(to: GstElement.self)) == 2,
              let viewer = WeakBox.object(data, as: WebRTCViewer.self) else { return }
        viewer.queue.async { viewer.gathered() }
    }

    /// Gathering is complete (or its time is up): the answer goes out with what is in it.
    private func gathered() {
        let go = state.withLock { s -> (SharedElement, SharedElement, Answering)? in
            guard !s.ended, var answering = s.answering, !answering.gathered, let pipeline = s.pipeline, let webrtc = s.webrtc
            else { return nil }
            answering.gathered = true
            s.answering = nil
            return (pipeline, webrtc, answering)
        }
        guard let (pipeline, webrtc, answering) = go else { return }
        guard let answer = cgst_webrtc_local_sdp(webrtc.pointer) else {
            return fail(.badOffer("webrtcbin has no local description"), completion: answering.completion)
        }
        defer { g_free(answer) }
        // webrtcbin answers with the first format the offer lists that fits, not always the
        // one the payloader was given; nothing has flowed yet, so the payloaders follow it.
        let bin = UnsafeMutableRawPointer(pipeline.pointer).assumingMemoryBound(to: GstBin.self)
        let tracks = answering.plan.webrtcTracks
        if let track = tracks.video { follow(answer, section: answering.videoSection, payloader: track, in: bin) }
        if let audioSection = answering.audioSection, let track = tracks.audio {
            follow(answer, section: audioSection, payloader: track, in: bin)
        }
        answering.completion(.success(String(cString: answer)))
    }

    /// The session's pipeline, webrtcbin and answer in progress, unless it ended.
    private func current() -> (SharedElement, SharedElement, Answering)? {
        state.withLock { s in
            guard !s.ended, let pipeline = s.pipeline, let webrtc = s.webrtc, let answering = s.answering else { return nil }
            return (pipeline, webrtc, answering)
        }
    }

    /// The answer failed: say why (once) and end the session.
    private func fail(_ failure: Failure, completion: (@Sendable (Result<String, Failure>) -> Void)? = nil) {
        let pending = state.withLock { s -> (@Sendable (Result<String, Failure>) -> Void)? in
            defer { s.answering = nil }
            return s.answering?.completion
        }
        guard let told = completion ?? pending else { return }
        end()
        told(.failure(failure))
    }

    /// A step's callback data: the viewer (weakly) and what to do with webrtcbin's reply.
    private func stepData(_ then: @escaping @Sendable (WebRTCViewer, String?) -> Void) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(StepCallback(viewer: self, then: then)).toOpaque()
    }

    private static let stepDone: CGstWebRTCDone = { error, data in
        guard let data else { return }
        let step = Unmanaged<StepCallback>.fromOpaque(data).takeUnretainedValue()
        let reason = error.map { String(cString: $0) }
        guard let viewer = step.viewer else { return }
        viewer.queue.async { step.then(viewer, reason) }
    }

    private func follow(_ answer: UnsafePointer<gchar>, section: Int, payloader track: Int, in bin: UnsafeMutablePointer<GstBin>) {
        let payload = cgst_sdp_first_payload(answer, guint(section))
        guard payload >= 0, let pay = gst_bin_get_by_name(bin, "pay\(track)") else { return }
        defer { gst_object_unref(pay) }
        cgst_object_set_uint(pay, "pt", guint(payload))
    }

    private func link(_ bin: UnsafeMutablePointer<GstBin>, payloader track: Int?, to webrtc: UnsafeMutablePointer<GstElement>,
                      section: Int) throws {
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

    // MARK: The session

    /// Ends the session (idempotent); on `queue`.
    func end() {
        let ended = state.withLock { s -> (SharedElement?, PlayMedia?, WebRTCViewer?)? in
            guard !s.ended else { return nil }
            defer {
                s.ended = true
                s.pipeline = nil
                s.webrtc = nil
                s.media = nil
                s.selfReference = nil
            }
            return (s.pipeline, s.media, s.selfReference)
        }
        guard let (pipeline, fed, reference) = ended else { return }
        if let fed { bridge.detach(fed) }
        if let pipeline { gst_element_set_state(pipeline.pointer, GST_STATE_NULL) }
        onEnded(self)
        _ = reference
    }

    /// Ends a session whose browser never connected (it left, or no candidate pair works).
    func endUnlessConnected() {
        if state.withLock({ !$0.ended && $0.media == nil }) { end() }
    }

    // MARK: Events from GStreamer's threads

    private func connectionChanged(_ state: Int32) {
        switch state {
        case 2:  // connected: DTLS is up, so the cached key frame is not lost in the handshake
            let pipeline = self.state.withLock { s -> SharedElement? in
                guard !s.ended, s.media == nil else { return nil }
                return s.pipeline
            }
            guard let pipeline else { return }
            let fed = bridge.attachWebRTC(pipeline: pipeline.pointer)
            let late = self.state.withLock { s -> Bool in
                if s.ended { return true }
                s.media = fed
                return false
            }
            if late { bridge.detach(fed) }
        case 4, 5:  // failed, closed
            queue.async { self.end() }
        default: break
        }
    }

    private func watchConnection(_ webrtc: UnsafeMutablePointer<GstElement>) {
        connectSignal(webrtc, "notify::connection-state", unsafeBitCast(Self.connectionNotify, to: GCallback.self), to: self)
        // webrtcbin 1.22's ICE has no consent freshness: a browser that vanishes leaves the
        // connection "connected". Its RTCP tells instead: a BYE, or silence past rtpbin's timeout.
        if let rtpbin = gst_bin_get_by_name(UnsafeMutableRawPointer(webrtc).assumingMemoryBound(to: GstBin.self), "rtpbin") {
            connectSignal(rtpbin, "on-bye-ssrc", unsafeBitCast(Self.peerGone, to: GCallback.self), to: self)
            connectSignal(rtpbin, "on-timeout", unsafeBitCast(Self.peerGone, to: GCallback.self), to: self)
            gst_object_unref(rtpbin)
        }
    }

    private static let peerGone: @convention(c) (gpointer?, guint, guint, gpointer?) -> Void = { _, _, _, data in
        guard let viewer = WeakBox.object(data, as: WebRTCViewer.self) else { return }
        viewer.queue.async { viewer.end() }
    }

    private static let connectionNotify: @convention(c) (gpointer?, gpointer?, gpointer?) -> Void = { webrtc, _, data in
        guard let webrtc, let viewer = WeakBox.object(data, as: WebRTCViewer.self) else { return }
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
        addProbe(pad, GST_PAD_PROBE_TYPE_EVENT_BOTH, { _, info, data in
            guard let info, let event = info.pointee.data?.assumingMemoryBound(to: GstEvent.self),
                  let viewer = WeakBox.object(data, as: WebRTCViewer.self) else { return GST_PAD_PROBE_OK }
            if event.pointee.type == GST_EVENT_EOS {
                viewer.queue.async { viewer.end() }
            } else if gst_video_event_is_force_key_unit(event) != 0 {
                viewer.keyFrameWanted()
            }
            return GST_PAD_PROBE_OK
        }, to: self)
    }

    private func keyFrameWanted() {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = state.withLock { s -> Bool in
            guard now - s.lastKeyRequest > 1_000_000_000 else { return false }
            s.lastKeyRequest = now
            return true
        }
        guard due else { return }
        bridge.requestKeyUnit()
        onKeyFrameWanted()
    }
}

/// What a webrtcbin step calls back with: the viewer, weakly, and the next step.
private final class StepCallback: Sendable {
    weak let viewer: WebRTCViewer?
    let then: @Sendable (WebRTCViewer, String?) -> Void

    init(viewer: WebRTCViewer, then: @escaping @Sendable (WebRTCViewer, String?) -> Void) {
        self.viewer = viewer
        self.then = then
    }

    static let release: GDestroyNotify = { data in
        guard let data else { return }
        Unmanaged<StepCallback>.fromOpaque(data).release()
    }
}
