import CGStreamer
import CGstRTSPGlue
import CGstWebRTCGlue
import ChatCastSEI
import Foundation

/// For browsers that cannot read the encoded frames: each access unit's ChatCast envelope
/// goes on the data channel the browser opened, as `{"rtpTimestamp":T,"envelope":{…}}`, T
/// being the RTP timestamp of the unit's packets, so that the page draws it on that frame
/// as it would from the SEI. Envelopes are judged as a reader judges them (a malformed one is
/// not sent); at most `pendingLimit` units wait for their first packet.
final class WebRTCEnvelopeChannel: @unchecked Sendable {
    static let pendingLimit = 64

    private let lock = NSLock()
    private var channel: gpointer?
    private var pending: [(pts: UInt64, json: String)] = []

    deinit { if let channel { g_object_unref(channel) } }

    /// Watches webrtcbin for the browser's channel and the payloader `pay` of the video.
    func attach(webrtc: UnsafeMutablePointer<GstElement>, payloader pay: UnsafeMutablePointer<GstElement>) {
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        _ = cgst_signal_connect(webrtc, "on-data-channel", unsafeBitCast(Self.opened, to: GCallback.self), opaque)
        if let sink = gst_element_get_static_pad(pay, "sink") {
            _ = gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, { _, info, data in
                guard let info, let data, let buffer = info.pointee.data?.assumingMemoryBound(to: GstBuffer.self) else { return GST_PAD_PROBE_OK }
                Unmanaged<WebRTCEnvelopeChannel>.fromOpaque(data).takeUnretainedValue().accessUnit(buffer)
                return GST_PAD_PROBE_OK
            }, opaque, nil)
            gst_object_unref(sink)
        }
        if let source = gst_element_get_static_pad(pay, "src") {
            _ = gst_pad_add_probe(source, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue), { _, info, data in
                guard let info, let data, let payload = info.pointee.data else { return GST_PAD_PROBE_OK }
                let isList = info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue != 0
                let first = isList ? gst_buffer_list_get(OpaquePointer(payload), 0)
                                   : payload.assumingMemoryBound(to: GstBuffer.self)
                if let first { Unmanaged<WebRTCEnvelopeChannel>.fromOpaque(data).takeUnretainedValue().packet(first) }
                return GST_PAD_PROBE_OK
            }, opaque, nil)
            gst_object_unref(source)
        }
    }

    private static let opened: @convention(c) (gpointer?, gpointer?, gpointer?) -> Void = { _, channel, data in
        guard let channel, let data else { return }
        let this = Unmanaged<WebRTCEnvelopeChannel>.fromOpaque(data).takeUnretainedValue()
        this.lock.withLock {
            if let old = this.channel { g_object_unref(old) }
            this.channel = g_object_ref(channel)
        }
    }

    private func accessUnit(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        guard lock.withLock({ channel != nil }), buffer.pointee.pts != GstClockTime.max else { return }
        var map = GstMapInfo()
        guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
        defer { gst_buffer_unmap(buffer, &map) }
        let found = AccessUnit.userData(in: UnsafeBufferPointer(start: map.data, count: Int(map.size)), format: .annexB)
        guard let payload = found.payloads.first(where: { (try? EnvelopeDecoder.read($0)) != nil }) else { return }
        let json = String(decoding: payload, as: UTF8.self)
        lock.withLock {
            pending.append((UInt64(buffer.pointee.pts), json))
            if pending.count > Self.pendingLimit { pending.removeFirst() }
        }
    }

    private func packet(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        let pts = UInt64(buffer.pointee.pts)
        let (open, json) = lock.withLock { () -> (gpointer?, String?) in
            guard let index = pending.firstIndex(where: { $0.pts == pts }) else { return (nil, nil) }
            let json = pending[index].json
            pending.removeFirst(index + 1)
            return (channel.map { g_object_ref($0) }, json)
        }
        guard let open, let json else { return }
        defer { g_object_unref(open) }
        var timestamp: guint32 = 0
        guard cgst_rtp_timestamp(buffer, &timestamp) != 0 else { return }
        _ = cgst_webrtc_data_channel_send(open, "{\"rtpTimestamp\":\(timestamp),\"envelope\":\(json)}")
    }
}
