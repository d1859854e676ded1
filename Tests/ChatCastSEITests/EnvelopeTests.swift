import ChatCastSEI
import YoloCore
import XCTest

final class EnvelopeTests: XCTestCase {
    let hi = ChatMessage(id: "m1", room: "lobby", nick: "alice", text: "hi", time: "2026-11-25T12:00:00.000Z")

    func testEncodesTheContractShape() {
        let envelope = ChatEnvelope(chat: [hi], detections: EnvelopeDetections(width: 1280, height: 720, objects: [
            LabeledDetection(label: "person", classId: 0, confidence: 0.87, x: 10, y: 20, width: 100, height: 200)]))
        XCTAssertEqual(String(decoding: envelope.encode(), as: UTF8.self),
                       #"{"v":1,"chat":[{"id":"m1","room":"lobby","nick":"alice","text":"hi","time":"2026-11-25T12:00:00.000Z"}],"det":{"width":1280,"height":720,"objects":[{"label":"person","class_id":0,"confidence":0.87,"x":10,"y":20,"w":100,"h":200}]}}"#)
        XCTAssertEqual(try EnvelopeDecoder.decode(envelope.encode()), envelope)
    }

    func testIgnoresUnknownFieldsAndKeepsMarkupLiteral() throws {
        let text = #"{"v":1,"future":{"x":[1]},"chat":[{"id":"a","room":"r","nick":"n","text":"<span size=\"400000\">x</span>\u0007\n","time":"t","extra":1}]}"#
        let envelope = try EnvelopeDecoder.decode(Array(text.utf8))
        XCTAssertEqual(envelope.chat.first?.text, #"<span size="400000">x</span>"#)
    }

    func testDropsBadEnvelopes() {
        let bad: [String: [UInt8]] = [
            "empty": [],
            "64 KiB": Array(repeating: 0x20, count: 65_536),
            "invalid UTF-8": Array(#"{"v":1,"chat":[{"id":"a","room":"r","nick":"n","text":""#.utf8) + [0xC3, 0x28] + Array(#"","time":"t"}]}"#.utf8),
            "not JSON": Array("hello".utf8),
            "deep nesting": Array((#"{"v":1,"x":"# + String(repeating: "[", count: 50) + String(repeating: "]", count: 50) + "}").utf8),
            "no version": Array(#"{"chat":[]}"#.utf8),
            "chat not a list": Array(#"{"v":1,"chat":{"id":"a"}}"#.utf8),
        ]
        for (name, payload) in bad {
            XCTAssertThrowsError(try EnvelopeDecoder.decode(payload), name)
        }
    }

    func testJudgesEachMessageAndObjectOnItsOwn() throws {
        let good = #"{"id":"g1","room":"r","nick":"n","text":"kept","time":"t"}"#
        let bad = [#"{"id":"a","room":"r","nick":"n","text":""# + String(repeating: "x", count: 501) + #"","time":"t"}"#,
                   #"{"id":"b","room":"r","text":"no nick","time":"t"}"#,
                   #"{"id":"c","room":"r","nick":""# + String(repeating: "N", count: 200) + #"","text":"x","time":"t"}"#,
                   "12345678901234567890123", #"{"id":"","room":"r","nick":"n","text":"empty id","time":"t"}"#,
                   #"{"id":"d","room":"r","nick":"\u0001","text":"only a control in the nick","time":"t"}"#]
        let goodObject = #"{"label":"ball","class_id":0,"confidence":0.9,"x":1,"y":2,"w":3,"h":4}"#
        let badObjects = [#"{"label":"a","class_id":0,"confidence":0.5,"x":90,"y":0,"w":20,"h":10}"#,
                          #"{"label":"a","class_id":0,"confidence":0.5,"x":-5,"y":0,"w":1,"h":1}"#,
                          #"{"label":"a","class_id":0,"confidence":7,"x":0,"y":0,"w":1,"h":1}"#,
                          #"{"class_id":0,"confidence":0.5,"x":0,"y":0,"w":1,"h":1}"#,
                          #"{"label":"a","class_id":1e300,"confidence":0.5,"x":0,"y":0,"w":1,"h":1}"#, "[]"]
        let text = #"{"v":1,"chat":["# + ([good] + bad + [good.replacingOccurrences(of: "g1", with: "g2")]).joined(separator: ",")
            + #"],"det":{"width":100,"height":100,"objects":["# + goodObject + "]}}"
        let decoded = try EnvelopeDecoder.read(Array(text.utf8))
        XCTAssertEqual(decoded.envelope.chat.map(\.id), ["g1", "g2"])
        XCTAssertEqual(decoded.droppedMessages, bad.count)
        XCTAssertEqual(decoded.envelope.detections?.objects.count, 1, "the boxes stay")

        let boxes = #"{"v":1,"chat":["# + good + #"],"det":{"width":100,"height":100,"objects":["#
            + (badObjects + [goodObject]).joined(separator: ",") + "]}}"
        let judged = try EnvelopeDecoder.read(Array(boxes.utf8))
        XCTAssertEqual(judged.envelope.chat.map(\.id), ["g1"], "the chat stays")
        XCTAssertEqual(judged.envelope.detections?.objects,
                       [LabeledDetection(label: "ball", classId: 0, confidence: 0.9, x: 1, y: 2, width: 3, height: 4)])
        XCTAssertEqual(judged.droppedObjects, badObjects.count)

        // An unusable frame size costs the boxes, not the chat.
        let absurd = #"{"v":1,"chat":["# + good + #"],"det":{"width":1e300,"height":100,"objects":["# + goodObject + "]}}"
        let kept = try EnvelopeDecoder.read(Array(absurd.utf8))
        XCTAssertEqual(kept.envelope.chat.map(\.id), ["g1"])
        XCTAssertNil(kept.envelope.detections)
        XCTAssertEqual(kept.droppedObjects, 1)

        // Beyond 64 messages the rest are counted, not fatal.
        let many = #"{"v":1,"chat":["# + (0..<70).map { #"{"id":"\#($0)","room":"r","nick":"n","text":"","time":"t"}"# }
            .joined(separator: ",") + "]}"
        let capped = try EnvelopeDecoder.read(Array(many.utf8))
        XCTAssertEqual(capped.envelope.chat.count, EnvelopeDecoder.maxMessages)
        XCTAssertEqual(capped.droppedMessages, 70 - EnvelopeDecoder.maxMessages)
    }

    func testCarriesTrackIdsAndPredictedBoxes() throws {
        let tracked = LabeledDetection(label: "ball", classId: 0, confidence: 0.93, x: 10, y: 20, width: 40, height: 40,
                                       trackId: 7, predicted: true)
        let plain = LabeledDetection(label: "cup", classId: 41, confidence: 0.5, x: 0, y: 0, width: 5, height: 5, trackId: 8)
        let envelope = ChatEnvelope(detections: EnvelopeDetections(width: 1280, height: 720, objects: [tracked, plain]))
        let text = String(decoding: envelope.encode(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""h":40,"track_id":7,"predicted":true}"#), text)
        XCTAssertTrue(text.contains(#""h":5,"track_id":8}"#), "a detected box says nothing of prediction: \(text)")
        XCTAssertEqual(try EnvelopeDecoder.decode(envelope.encode()), envelope)

        // A bad track id costs its object only; an odd `predicted` is ignored.
        let object = #"{"label":"ball","class_id":0,"confidence":0.9,"x":1,"y":2,"w":3,"h":4"#
        let bad = ["0", "-3", "1e300", "2.5", #""7""#, "[7]", "2147483648"].map { object + #","track_id":"# + $0 + "}" }
        let odd = object + #","track_id":2147483647,"predicted":"yes"}"#
        let untracked = object + #","track_id":null}"#
        let payload = #"{"v":1,"det":{"width":100,"height":100,"objects":["# + (bad + [odd, untracked]).joined(separator: ",") + "]}}"
        let judged = try EnvelopeDecoder.read(Array(payload.utf8))
        XCTAssertEqual(judged.droppedObjects, bad.count)
        XCTAssertEqual(judged.envelope.detections?.objects.map(\.trackId), [2_147_483_647, nil])
        XCTAssertEqual(judged.envelope.detections?.objects.map(\.predicted), [false, false])
    }

    func testPackingSpreadsABacklogInOrderUnder4KiB() {
        let backlog = (0..<200).map { ChatMessage(id: "id\($0)", room: "lobby", nick: "n\($0 % 7)",
                                                 text: String(repeating: "é", count: $0 % 60), time: "2026-11-25T12:00:00.000Z") }
        var rest = backlog, delivered: [ChatMessage] = [], frames = 0
        while !rest.isEmpty {
            let packed = EnvelopePacker.pack(chat: rest, detections: nil)
            XCTAssertLessThanOrEqual(packed.payload.count, ChatEnvelope.maxPayloadBytes)
            XCTAssertEqual(packed.payload, packed.envelope.encode(), "sizes added up match the written envelope")
            XCTAssertFalse(packed.envelope.chat.isEmpty)
            delivered += packed.envelope.chat
            rest = packed.rest
            frames += 1
        }
        XCTAssertEqual(delivered, backlog)
        XCTAssertGreaterThan(frames, 1)
    }

    func testPackingTrimsTooManyDetectionsByScore() {
        let objects = (0..<1000).map { LabeledDetection(label: "thing", classId: 1, confidence: Double($0) / 1000, x: 0, y: 0, width: 1, height: 1) }
        let packed = EnvelopePacker.pack(chat: [hi], detections: EnvelopeDetections(width: 10, height: 10, objects: objects))
        XCTAssertLessThanOrEqual(packed.payload.count, ChatEnvelope.maxPayloadBytes)
        XCTAssertEqual(packed.payload, packed.envelope.encode())
        XCTAssertGreaterThan(packed.payload.count, ChatEnvelope.maxPayloadBytes - 200, "filled close to the limit")
        let kept = packed.envelope.detections!.objects
        XCTAssertGreaterThan(kept.count, 10)
        XCTAssertEqual(kept.first?.confidence, 0.999)
        XCTAssertEqual(packed.rest.count + packed.envelope.chat.count, 1)
    }
}
