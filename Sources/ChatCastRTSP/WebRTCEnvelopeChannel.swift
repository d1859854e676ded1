import CGStreamer
import CGstRTSPGlue
import CGstWebRTCGlue
import ChatCastSEI
import Foundation
import Locking

/// For browsers that cannot read the encoded frames: each access unit's ChatCast envelope
/// goes on the data channel the browser opened, as `{"rtpTimestamp":T,"envelope":{…}}`, T
/// being the RTP timestamp of the unit's packets, so that the page draws it on that frame
/// as it would from the SEI. Envelopes are judged as a reader judges them (a malformed one is
/// not sent); at most `pendingLimit` units wait for their first packet.
final class WebRTCEnvelopeChannel: Sendable {
    static let pendingLimit = 64

    private struct State {
        var channel: SharedGObject?
        var pending: [(pts: UInt64, json: String)] = []
    }

    private let state = Mutex(State())

    /// Watches webrtcbin for the browser's channel and the payloader `pay` of the video.
    func attach(webrtc: UnsafeMutablePointer<GstElement>, payloader pay: UnsafeMutablePointer<GstElement>) {
        connectSignal(webrtc, "on-data-channel", unsafeBitCast(Self.opened, to: GCallback.self), to: self)
        if let sink = gst_element_get_static_pad(pay, "sink") {
            addProbe(sink, GST_PAD_PROBE_TYPE_BUFFER, { _, info, data in
                guard let info, let buffer = info.pointee.data?.assumingMemoryBound(to: GstBuffer.self) else { return GST_PAD_PROBE_OK }
                WeakBox.object(data, as: WebRTCEnvelopeChannel.self)?.accessUnit(buffer)
                return GST_PAD_PROBE_OK
            }, to: self)
            gst_object_unref(sink)
        }
        if let source = gst_element_get_static_pad(pay, "src") {
            addProbe(source, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue), { _, info, data in
                guard let info, let payload = info.pointee.data else { return GST_PAD_PROBE_OK }
                let isList = info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue != 0
                let first = isList ? gst_buffer_list_get(OpaquePointer(payload), 0)
                                   : payload.assumingMemoryBound(to: GstBuffer.self)
                if let first { WeakBox.object(data, as: WebRTCEnvelopeChannel.self)?.packet(first) }
                return GST_PAD_PROBE_OK
            }, to: self)
            gst_object_unref(source)
        }
    }

    private static let opened: @convention(c) (gpointer?, gpointer?, gpointer?) -> Void = { _, channel, data in
        guard let channel, let this = WeakBox.object(data, as: WebRTCEnvelopeChannel.self) else { return }
        let opened = SharedGObject(adding: channel)
        let old = this.state.withLock { s -> SharedGObject? in
            defer { s.channel = opened }
            return s.channel
        }
        _ = old  // released here, with no lock held
    }

    private func accessUnit(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        guard state.withLock({ $0.channel != nil }), buffer.pointee.pts != GstClockTime.max else { return }
        var map = GstMapInfo()
        guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
        defer { gst_buffer_unmap(buffer, &map) }
        let found = AccessUnit.userData(in: UnsafeBufferPointer(start: map.data, count: Int(map.size)), format: .annexB)
        guard let payload = found.payloads.first(where: { (try? EnvelopeDecoder.read($0)) != nil }) else { return }
        let json = String(decoding: payload, as: UTF8.self)
        state.withLock { s in
            s.pending.append((UInt64(buffer.pointee.pts), json))
            if s.pending.count > Self.pendingLimit { s.pending.removeFirst() }
        }
    }

    private func packet(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        let pts = UInt64(buffer.pointee.pts)
        let found = state.withLock { s -> (SharedGObject, String)? in
            guard let index = s.pending.firstIndex(where: { $0.pts == pts }) else { return nil }
            let json = s.pending[index].json
            s.pending.removeFirst(index + 1)
            return s.channel.map { ($0, json) }
        }
        guard let (open, json) = found else { return }
        var timestamp: guint32 = 0
        guard cgst_rtp_timestamp(buffer, &timestamp) != 0 else { return }
        _ = cgst_webrtc_data_channel_send(open.pointer, "{\"rtpTimestamp\":\(timestamp),\"envelope\":\(json)}")
    }
}
