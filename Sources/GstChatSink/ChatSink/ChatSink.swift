#if canImport(Glibc)
import Glibc
#endif
import CGStreamer
import ChatCastSEI
import GstSwift
import Synchronization
import YoloCore

/// `chatsink`: writes the JSON lines of DESIGN.md — one `chat` line per chat meta and one
/// `detections` line per buffer that carries ROI metas — to stdout or `location`, flushed
/// per line so `tail -f` follows it. `sync` defaults to false, as for filesink.
final class ChatSink: SinkImpl {
    static let elementDescription = ElementDescription(
        typeName: "GstChatSink", elementName: "chatsink", longName: "ChatCast JSON lines sink", classification: "Sink",
        summary: "Writes chat and detections as JSON lines", author: "ChatCast", sinkCaps: "ANY", srcCaps: nil,
        properties: [PropertySpec("location", nick: "Location", blurb: "File to write (unset = standard output)",
                                  .string(default: nil))])

    private let element: ElementRef
    private let location = Mutex<String?>(nil)
    private let stream = Mutex(H264StreamInfo())
    /// The open output; only the streaming thread and start/stop touch it.
    private let output = Mutex<UnsafeMutablePointer<FILE>?>(nil)

    init(element: ElementRef) {
        self.element = element
        // Like filesink: lines are written as they arrive, not held to the clock (a viewer of
        // a finished RTSP stream would otherwise wait for an EOS that 1.22 never delivers).
        gst_base_sink_set_sync(UnsafeMutableRawPointer(element.pointer).assumingMemoryBound(to: GstBaseSink.self), 0)
    }

    func setProperty(_ name: String, _ value: PropertyValue) {
        if case let .string(path) = value { location.withLock { $0 = path.flatMap { $0.isEmpty ? nil : $0 } } }
    }

    func property(_ name: String) -> PropertyValue { .string(location.withLock { $0 }) }

    func start() throws {
        guard let path = location.withLock({ $0 }) else {
            output.withLock { $0 = stdout }
            return
        }
        guard let file = fopen(path, "w") else {
            throw ElementError.resourceRead("\(path): \(String(cString: strerror(errno))). Set location= to a writable file.")
        }
        output.withLock { $0 = file }
    }

    func stop() throws {
        output.withLock { file in
            if let f = file, f != stdout { fclose(f) }
            file = nil
        }
    }

    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        if let info = H264StreamInfo(capsEvent: event) { stream.withLock { $0 = info } }
        return true
    }

    func render(_ buffer: BufferRef) throws -> FlowOutcome {
        let pts = buffer.pts
        var lines = buffer.chatMessages.map { ChatLine.json($0, pts: pts) }
        let regions = buffer.regionsOfInterest
        if !regions.isEmpty {
            let info = stream.withLock { $0 }
            let objects = regions.map(\.labeledDetection)
            lines.append(DetectionsLine.json(pts: pts, width: info.width, height: info.height, objects: objects))
        }
        guard !lines.isEmpty else { return .ok }
        try output.withLock { file in
            guard let file else { return }
            for line in lines where fputs(line + "\n", file) < 0 {
                throw ElementError.failed("chatsink could not write: \(String(cString: strerror(errno)))")
            }
            fflush(file)
        }
        return .ok
    }
}
