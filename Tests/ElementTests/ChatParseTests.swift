import CGStreamer
import CGstCheck
import CGstGlue
import ChatCastSEI
import GstChatSink
import GstSwift
import XCTest
import YoloCore

/// chatparse on synthetic access units: only the NAL layout matters to it.
final class ChatParseTests: XCTestCase {
    let aud: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0]
    let slice: [UInt8] = [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21]

    func message(_ id: String, _ text: String) -> ChatMessage {
        ChatMessage(id: id, room: "lobby", nick: "alice", text: text, time: "2026-11-25T12:00:00.000Z")
    }

    func accessUnit(_ envelopes: [ChatEnvelope], extra: [[UInt8]] = []) -> [UInt8] {
        var au = aud + slice
        for e in envelopes {
            au = AccessUnit.inserting(UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: e.encode()).seiNAL(),
                                      into: au, format: .annexB)!
        }
        for nal in extra { au = AccessUnit.inserting(nal, into: au, format: .annexB)! }
        return au
    }

    func push(_ h: Harness, _ bytes: [UInt8], pts: UInt64) -> UnsafeMutablePointer<GstBuffer>? {
        let buffer = gst_harness_create_buffer(h.pointer, gsize(bytes.count))!
        _ = bytes.withUnsafeBytes { gst_buffer_fill(buffer, 0, $0.baseAddress, gsize(bytes.count)) }
        cgst_buffer_set_pts(buffer, GstClockTime(pts))
        guard gst_harness_push(h.pointer, buffer) == GST_FLOW_OK else { return nil }
        return gst_harness_pull(h.pointer)
    }

    func testEveryEnvelopeOfAFrameArrivesOnceWithScaledBoxes() throws {
        let h = Harness("chatparse")
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au,width=640,height=360")
        let first = ChatEnvelope(chat: [message("1", "hi")], detections: EnvelopeDetections(width: 1280, height: 720, objects: [
            LabeledDetection(label: "ball", classId: 0, confidence: 0.9, x: 100, y: 200, width: 40, height: 60)]))
        let second = ChatEnvelope(chat: [message("2", "<b>two</b>")])
        let out1 = try XCTUnwrap(push(h, accessUnit([first, second]), pts: 1000))
        defer { gst_buffer_unref(out1) }
        XCTAssertEqual(BufferRef(out1).chatMessages.map(\.id), ["1", "2"])
        XCTAssertEqual(BufferRef(out1).chatMessages.last?.text, "<b>two</b>")
        XCTAssertEqual(BufferRef(out1).regionsOfInterest,
                       [RegionOfInterest(type: "ball", x: 50, y: 100, width: 20, height: 30, label: "ball", classId: 0, confidence: 0.9)])
        let lines = h.jsonMessages(named: "chatparse")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], ChatLine.json(message("1", "hi"), pts: 1000))
        XCTAssertTrue(lines[1].contains(#""type":"detections","pts":1000,"width":640,"height":360"#), lines[1])
        XCTAssertEqual(lines[2], ChatLine.json(message("2", "<b>two</b>"), pts: 1000))

        // The ids repeat on the next IDR: nothing new is announced.
        let out2 = try XCTUnwrap(push(h, accessUnit([first]), pts: 2000))
        defer { gst_buffer_unref(out2) }
        XCTAssertEqual(BufferRef(out2).chatMessages.count, 0)
        XCTAssertEqual(BufferRef(out2).regionsOfInterest.count, 1)
        XCTAssertEqual(h.get("dropped"), "0")
    }

    func testBadEnvelopesAreDroppedAndCountedWhileTheVideoFlows() throws {
        let h = Harness("chatparse")
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au")
        var truncated = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: Array(#"{"v":1}"#.utf8)).seiNAL()
        truncated[2] = 200
        let notJSON = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: Array("nope".utf8)).seiNAL()
        let otherUUID = UserDataUnregistered(uuid: Array(repeating: 7, count: 16), payload: Array("x264".utf8)).seiNAL()
        let au = accessUnit([ChatEnvelope(chat: [message("ok", "fine")])], extra: [truncated, notJSON, otherUUID])
        let out = try XCTUnwrap(push(h, au, pts: 0), "the frame must flow on")
        defer { gst_buffer_unref(out) }
        XCTAssertEqual(BufferRef(out).chatMessages.map(\.id), ["ok"])
        XCTAssertEqual(h.get("dropped"), "2")
        // The frame's bytes pass unchanged.
        var map = GstMapInfo()
        gst_buffer_map(out, &map, GST_MAP_READ)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: map.data, count: Int(map.size))), au)
        gst_buffer_unmap(out, &map)
    }

    func testStripSEIRemovesOurEnvelopesAfterReadingThem() throws {
        let h = Harness("chatparse", properties: ["strip-sei": true])
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au")
        let out = try XCTUnwrap(push(h, accessUnit([ChatEnvelope(chat: [message("s", "strip me")])]), pts: 0))
        defer { gst_buffer_unref(out) }
        XCTAssertEqual(BufferRef(out).chatMessages.map(\.text), ["strip me"])
        var map = GstMapInfo()
        gst_buffer_map(out, &map, GST_MAP_READ)
        let bytes = Array(UnsafeBufferPointer(start: map.data, count: Int(map.size)))
        gst_buffer_unmap(out, &map)
        XCTAssertEqual(bytes, aud + slice)
    }

    func testMessageSignalCarriesEachNewChatLine() throws {
        let h = Harness("chatparse")
        gst_harness_set_src_caps_str(h.pointer, "video/x-h264,stream-format=byte-stream,alignment=au")
        receivedLines = []
        let handler: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
            _, line, _ in receivedLines.append(String(cString: line!))
        }
        g_signal_connect_data(UnsafeMutableRawPointer(h.element).assumingMemoryBound(to: GObject.self), "message",
                              unsafeBitCast(handler, to: GCallback.self), nil, nil, GConnectFlags(rawValue: 0))
        let envelope = ChatEnvelope(chat: [message("a", "one"), message("b", "two")])
        for pts in [0, 1] as [UInt64] {
            if let out = push(h, accessUnit([envelope]), pts: pts) { gst_buffer_unref(out) }
        }
        XCTAssertEqual(receivedLines, [ChatLine.json(message("a", "one"), pts: 0), ChatLine.json(message("b", "two"), pts: 0)])
    }
}

nonisolated(unsafe) var receivedLines: [String] = []
