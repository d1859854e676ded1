import CGStreamer
import CGstGlue
import ChatCastSEI
import GstSwift
import Locking
import YoloCore

/// `chatparse`: reads ChatCast envelopes from every SEI of each H.264 access unit (1.22's
/// h264parse keeps only the last user-data SEI), de-duplicates chat by id, and attaches
/// chat metas and ROI metas (scaled to the frame) that survive decoding. Announces new chat
/// with the `message` signal and `chatparse` element messages. Each chat message and each
/// object is checked on its own: a bad one is left out and counted (`dropped`, and
/// `dropped-messages`/`dropped-objects`), the rest of its envelope is kept; an unreadable
/// envelope is dropped whole and counted; the video always flows on.
final class ChatParse: TransformImpl {
    /// H.264, and H.265 (the same envelope in a prefix SEI).
    static let caps = "video/x-h264, stream-format=(string){ byte-stream, avc }, alignment=(string)au; "
        + "video/x-h265, stream-format=(string){ byte-stream, hvc1, hev1 }, alignment=(string)au"
    static let elementDescription = ElementDescription(
        typeName: "GstChatParse", elementName: "chatparse", longName: "ChatCast SEI parser", classification: "Codec/Parser/Video",
        summary: "Reads chat and detections carried as H.264 SEI and attaches them as metas", author: "ChatCast",
        sinkCaps: caps, srcCaps: caps,
        properties: [PropertySpec("dropped", nick: "Dropped",
                                  blurb: "Unreadable envelopes, bad chat messages and bad objects left out so far",
                                  .uint(min: 0, max: .max, default: 0), mutability: .readOnly),
                     PropertySpec("dropped-messages", nick: "Dropped messages",
                                  blurb: "Chat messages with bad fields left out so far",
                                  .uint(min: 0, max: .max, default: 0), mutability: .readOnly),
                     PropertySpec("dropped-objects", nick: "Dropped objects", blurb: "Detected objects left out so far",
                                  .uint(min: 0, max: .max, default: 0), mutability: .readOnly),
                    ] + table.specs,
        signals: [SignalSpec("message", parameters: [.string])])

    static let log = DebugCategory(name: "chatparse", description: "ChatCast SEI parser")

    static let table = PropertyTable<Settings>([
        .bool(PropertySpec("strip-sei", nick: "Strip SEI", blurb: "Remove ChatCast SEI from the stream after reading it",
                           .bool(default: false), mutability: .playing), \.stripSEI),
        .bool(PropertySpec("post-messages", nick: "Post messages",
                           blurb: "Post a chatparse element message (field json) per chat message and detections line",
                           .bool(default: true), mutability: .playing), \.postMessages),
    ])

    struct Settings {
        var stripSEI = false
        var postMessages = true
    }

    private let element: ElementRef
    /// What was left out so far.
    struct Dropped {
        var envelopes: UInt32 = 0, messages: UInt32 = 0, objects: UInt32 = 0
        var total: UInt32 { envelopes &+ messages &+ objects }
    }
    private let dropped = Mutex(Dropped())
    private let settings = Mutex(Settings())
    private let stream = Mutex(CodedStreamInfo())
    private let seen = Mutex(RecentIDs())

    init(element: ElementRef) { self.element = element }

    func setProperty(_ name: String, _ value: PropertyValue) {
        ChatParse.table.set(name, value, in: settings, element: element, log: ChatParse.log)
    }

    func property(_ name: String) -> PropertyValue {
        switch name {
        case "dropped": return .uint(dropped.withLock { $0.total })
        case "dropped-messages": return .uint(dropped.withLock { $0.messages })
        case "dropped-objects": return .uint(dropped.withLock { $0.objects })
        default: return ChatParse.table.get(name, in: settings)
        }
    }

    func start() throws {
        seen.withLock { $0 = RecentIDs() }
        dropped.withLock { $0 = Dropped() }
    }

    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        if let info = CodedStreamInfo(capsEvent: event) { stream.withLock { $0 = info } }
        return true
    }

    func transformInPlace(_ buffer: BufferRef) throws -> FlowOutcome {
        let info = stream.withLock { $0 }
        let s = settings.withLock { $0 }
        var map = GstMapInfo()
        guard gst_buffer_map(buffer.pointer, &map, GST_MAP_READ) != 0 else {
            throw ElementError.failed("chatparse could not map a buffer")
        }
        let bytes = UnsafeBufferPointer(start: map.data, count: Int(map.size))
        let found = AccessUnit.userData(in: bytes, format: info.format, codec: info.codec)
        let stripped = s.stripSEI && (!found.payloads.isEmpty || found.malformed > 0)
            ? AccessUnit.removingUserData(bytes, format: info.format, codec: info.codec) : nil
        gst_buffer_unmap(buffer.pointer, &map)

        var envelopes: [ChatEnvelope] = []
        var bad = Dropped(envelopes: UInt32(clamping: found.malformed))
        for payload in found.payloads {
            do {
                let decoded = try EnvelopeDecoder.read(payload)
                envelopes.append(decoded.envelope)
                bad.messages &+= UInt32(clamping: decoded.droppedMessages)
                bad.objects &+= UInt32(clamping: decoded.droppedObjects)
            } catch {
                bad.envelopes &+= 1
                ChatParse.log.warning(element, "dropped an envelope: \(error)")
            }
        }
        if found.malformed > 0 { ChatParse.log.warning(element, "dropped \(found.malformed) unreadable SEI NAL units") }
        if bad.messages > 0 || bad.objects > 0 {
            ChatParse.log.warning(element, "left out \(bad.messages) bad chat messages and \(bad.objects) bad objects")
        }
        if bad.total > 0 {
            dropped.withLock { d in
                d.envelopes &+= bad.envelopes
                d.messages &+= bad.messages
                d.objects &+= bad.objects
            }
            element.notify("dropped")
        }
        for envelope in envelopes { attach(envelope, to: buffer, frame: info, post: s.postMessages) }
        if let stripped {
            guard cgst_buffer_replace_bytes(buffer.pointer, stripped, gsize(stripped.count)) != 0 else {
                throw ElementError.failed("chatparse got a read-only buffer")
            }
        }
        return .ok
    }

    private func attach(_ envelope: ChatEnvelope, to buffer: BufferRef, frame: CodedStreamInfo, post: Bool) {
        let pts = buffer.pts
        let signal = element.hasHandlers(0)
        for message in envelope.chat where seen.withLock({ $0.insert(message.id) }) {
            buffer.addChatMessage(message)
            guard signal || post else { continue }
            let line = ChatLine.json(message, pts: pts)
            if signal { element.emit(0, [(.string(line), .string)]) }
            if post { element.postJSONMessage(name: "chatparse", pts: pts, json: line) }
        }
        guard let det = envelope.detections else { return }
        // Boxes are in pixels of the frame they were found on; scale them to this stream's.
        let sx = frame.width > 0 ? Double(frame.width) / Double(det.width) : 1
        let sy = frame.height > 0 ? Double(frame.height) / Double(det.height) : 1
        let width = frame.width > 0 ? frame.width : det.width, height = frame.height > 0 ? frame.height : det.height
        let objects = det.objects.map { o in
            LabeledDetection(label: o.label, classId: o.classId, confidence: o.confidence,
                             x: Int((Double(o.x) * sx).rounded()), y: Int((Double(o.y) * sy).rounded()),
                             width: Int((Double(o.width) * sx).rounded()), height: Int((Double(o.height) * sy).rounded()),
                             trackId: o.trackId, predicted: o.predicted)
        }
        // In one process the encoder carried the detector's own ROI metas: do not add them twice.
        let present = buffer.regionsOfInterest.map(\.labeledDetection)
        for o in objects where !present.contains(where: { $0.label == o.label && $0.box == o.box }) {
            buffer.addDetection(label: o.label, classId: o.classId, confidence: o.confidence, x: o.x, y: o.y,
                                width: o.width, height: o.height, trackId: o.trackId, predicted: o.predicted)
        }
        if post {
            element.postJSONMessage(name: "chatparse", pts: pts,
                                    json: DetectionsLine.json(pts: pts, width: width, height: height, objects: objects))
        }
    }
}
