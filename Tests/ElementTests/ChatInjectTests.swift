import CGStreamer
import CGstCheck
import CGstGlue
import ChatCastSEI
import GstChatSink
import GstSwift
import XCTest
import YoloCore

final class ChatInjectTests: XCTestCase {
    let keyFrame: [UInt8] = [0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1, 0x65, 0x88, 0x84]
    let deltaFrame: [UInt8] = [0, 0, 0, 1, 0x09, 0x30, 0, 0, 0, 1, 0x41, 0x9A, 0x02]

    func harness() -> Harness {
        let h = Harness("chatinject")
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au,width=640,height=480")
        return h
    }

    func send(_ h: Harness, _ nick: String, _ text: String) {
        let object = UnsafeMutableRawPointer(h.element).assumingMemoryBound(to: GObject.self)
        var params = [GValue](repeating: GValue(), count: 4)
        g_value_init(&params[0], G_OBJECT_TYPE_compat(object))
        g_value_set_object(&params[0], object)
        for (i, s) in ["lobby", nick, text].enumerated() {
            g_value_init(&params[i + 1], cgst_type_string())
            g_value_set_string(&params[i + 1], s)
        }
        g_signal_emitv(&params, g_signal_lookup("send", G_OBJECT_TYPE_compat(object)), 0, nil)
        for i in 0..<4 { g_value_unset(&params[i]) }
    }

    /// Pushes one access unit and returns the envelopes of the output and its bytes.
    func push(_ h: Harness, _ bytes: [UInt8], delta: Bool, roi: Bool = false) throws -> (envelopes: [ChatEnvelope], bytes: [UInt8]) {
        let buffer = gst_harness_create_buffer(h.pointer, gsize(bytes.count))!
        _ = bytes.withUnsafeBytes { gst_buffer_fill(buffer, 0, $0.baseAddress, gsize(bytes.count)) }
        if delta { gst_buffer_set_flags(buffer, GST_BUFFER_FLAG_DELTA_UNIT) }
        if roi { BufferRef(buffer).addDetection(label: "ball", classId: 0, confidence: 0.9, x: 10, y: 20, width: 30, height: 40) }
        XCTAssertEqual(gst_harness_push(h.pointer, buffer), GST_FLOW_OK)
        let out = try XCTUnwrap(gst_harness_pull(h.pointer))
        defer { gst_buffer_unref(out) }
        var map = GstMapInfo()
        gst_buffer_map(out, &map, GST_MAP_READ)
        let outBytes = Array(UnsafeBufferPointer(start: map.data, count: Int(map.size)))
        gst_buffer_unmap(out, &map)
        let found = AccessUnit.userData(in: outBytes, format: .annexB)
        XCTAssertEqual(found.malformed, 0)
        XCTAssertLessThanOrEqual(found.payloads.count, 1, "one SEI per access unit")
        for p in found.payloads { XCTAssertLessThanOrEqual(p.count, ChatEnvelope.maxPayloadBytes) }
        return (try found.payloads.map { try EnvelopeDecoder.decode($0) }, outBytes)
    }

    /// `from-start=true` carries what the file already holds even when the stream is one
    /// frame long: the file is read before the first frame can pass.
    func testFromStartCarriesTheFileIntoAOneFrameStream() throws {
        let dir = NSTemporaryDirectory() + "chatcast-fromstart-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "carol: in the first frame\n".write(toFile: dir + "/chat.txt", atomically: true, encoding: .utf8)
        let record = try gstLaunch(["videotestsrc", "num-buffers=1", "!", "video/x-raw,format=I420,width=160,height=120", "!",
                                    "x264enc", "tune=zerolatency", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(dir)/chat.txt", "from-start=true", "!", "matroskamux", "!", "filesink",
                                    "location=\(dir)/one.mkv"])
        XCTAssertEqual(record.status, 0, record.stderr)
        let play = try gstLaunch(["filesrc", "location=\(dir)/one.mkv", "!", "matroskademux", "!", "h264parse", "!",
                                  "chatparse", "!", "chatsink"])
        XCTAssertEqual(play.status, 0, play.stderr)
        XCTAssertTrue(play.stdout.contains(#""text":"in the first frame""#), play.stdout)
    }

    func testTwoMessagesSentWithinOneFrameBothArriveBeforeTheSlice() throws {
        let h = harness()
        send(h, "alice", "hi")
        send(h, "bob", "<b>yo</b>")
        let (envelopes, bytes) = try push(h, keyFrame, delta: false)
        XCTAssertEqual(envelopes.first?.chat.map(\.text), ["hi", "<b>yo</b>"])
        XCTAssertEqual(envelopes.first?.chat.map(\.nick), ["alice", "bob"])
        let types = NALUnits.annexB(bytes).map { NALUnits.type(bytes[$0.lowerBound]) }
        XCTAssertEqual(types, [9, 7, 8, 6, 5], "the SEI sits directly before the first slice")
        // A frame with nothing to carry passes untouched.
        XCTAssertEqual(try push(h, deltaFrame, delta: true).bytes, deltaFrame)
    }

    func testTwoHundredMessagesAllArriveInOrderSpreadOverFrames() throws {
        let h = harness()
        for i in 0..<200 { send(h, "n\(i % 5)", "message \(i) " + String(repeating: "ü", count: i % 40)) }
        var texts: [String] = [], frames = 0
        while texts.count < 200 && frames < 200 {
            texts += try push(h, deltaFrame, delta: true).envelopes.flatMap { $0.chat.map(\.text) }
            frames += 1
        }
        XCTAssertEqual(texts, (0..<200).map { "message \($0) " + String(repeating: "ü", count: $0 % 40) })
        XCTAssertGreaterThan(frames, 1)
    }

    func testRecentMessagesRepeatOnKeyFramesAndDetectionsRide() throws {
        let h = harness()
        send(h, "alice", "first")
        let first = try push(h, deltaFrame, delta: true).envelopes
        XCTAssertEqual(first.first?.chat.map(\.text), ["first"])
        XCTAssertTrue(try push(h, deltaFrame, delta: true).envelopes.isEmpty)
        let onKey = try push(h, keyFrame, delta: false, roi: true).envelopes
        XCTAssertEqual(onKey.first?.chat.map(\.id), first.first?.chat.map(\.id), "the same id is repeated on the IDR")
        XCTAssertEqual(onKey.first?.detections, EnvelopeDetections(width: 640, height: 480, objects: [
            LabeledDetection(label: "ball", classId: 0, confidence: 0.9, x: 10, y: 20, width: 30, height: 40)]))
    }

    func testAFullBacklogDropsTheOldestCountsAndWarns() throws {
        let h = Harness("chatinject", properties: ["max-backlog": 10])
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au,width=640,height=480")
        for i in 0..<25 { send(h, "flood", "line \(i)") }
        XCTAssertEqual(h.get("dropped"), "15")
        XCTAssertTrue(h.warningMessage()?.contains("backlog is full") ?? false, "a warning on the bus")
        var texts: [String] = []
        for _ in 0..<5 { texts += try push(h, deltaFrame, delta: true).envelopes.flatMap { $0.chat.map(\.text) } }
        XCTAssertEqual(texts, (15..<25).map { "line \($0)" }, "the newest ten, in order")
    }

    func testSendMakesEveryMessageValid() throws {
        let h = harness()
        send(h, "", String(repeating: "é", count: 700))
        send(h, String(repeating: "N", count: 200), "ctrl\u{1}\u{7}")
        let chat = try push(h, deltaFrame, delta: true).envelopes.flatMap(\.chat)
        XCTAssertEqual(chat.map(\.nick), ["chatcast", String(repeating: "N", count: ChatLimits.maxNickCharacters)])
        XCTAssertEqual(chat.map(\.text), [String(repeating: "é", count: 500), "ctrl"])
    }

    /// What a messages file held before the element started was meant for earlier streams.
    func testTheMessagesFileIsFollowedFromItsEndUnlessFromStart() throws {
        let path = NSTemporaryDirectory() + "chatcast-follow-\(UUID().uuidString).txt"
        try "old: before start\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for fromStart in [false, true] {
            let h = Harness("chatinject", properties: ["messages-file": path, "from-start": fromStart])
            gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au,width=640,height=480")
            let file = try XCTUnwrap(FileHandle(forWritingAtPath: path))
            file.seekToEndOfFile()
            file.write(Data("new: after start \(fromStart)\n".utf8))
            try file.close()
            var texts: [String] = []
            let deadline = Date().addingTimeInterval(5)
            while !texts.contains("after start \(fromStart)") && Date() < deadline {
                texts += try push(h, deltaFrame, delta: true).envelopes.flatMap { $0.chat.map(\.text) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            XCTAssertEqual(texts, (fromStart ? ["before start", "after start false"] : []) + ["after start \(fromStart)"])
        }
    }
}
