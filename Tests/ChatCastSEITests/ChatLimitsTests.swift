import ChatCastSEI
import XCTest
import YoloCore

/// Whatever a writer is given, the messages it makes valid are read back whole, and chat
/// gets through beside any number of boxes.
final class ChatLimitsTests: XCTestCase {
    static let time = "2026-11-25T12:00:00.000Z"

    /// Odd inputs people and networks send, as (nick, room, id, text).
    static let corpus: [(String, String, String, String)] = [
        ("alice", "lobby", "n1", "a normal line"),
        ("bob", "lobby", "n2", String(repeating: "long line ", count: 60)),
        (String(repeating: "N", count: 200), "lobby", "n3", "a 200-character nick"),
        ("", "", "", "empty nick, room and id"),
        ("eve", "lobby", "n5", ""),
        ("\u{1}\u{7}\u{1B}", "lo\u{0}bby", "n6", "controls\u{0}\u{7}\u{1B}[31m\u{7F}\u{85}\u{9B} everywhere\r\n"),
        ("mallory", "lobby", "n7", String(decoding: [0x61, 0xC3, 0x28, 0xFF, 0xFE, 0x62], as: UTF8.self)),
        ("markup", "lobby", "n8", #"<span size="400000">big</span> &amp; <script>alert(1)</script> \"#),
        ("numbers", "lobby", "n9", "1e400 -0 NaN 99999999999999999999999999 0x7FFFFFFFFFFFFFFF"),
        ("quotes", "lobby", "n10", String(repeating: "\"", count: 600)),
        ("separators", "lobby", "n11", String(repeating: "\u{2028}\u{2029}", count: 300)),
        ("emoji", "lobby", "n12", String(repeating: "👩‍👩‍👧‍👦", count: 600)),
        ("zalgo", "lobby", "n13", "z" + String(repeating: "\u{0301}", count: 5000)),
        ("spaces in id", "room with spaces,#and#hashes", "an id with spaces", "odd id and room"),
        ("long id", String(repeating: "r", count: 300), String(repeating: "i", count: 300), "long id and room"),
        ("   ", "   ", "\u{1}", "blank nick"),
        ("rtl", "lobby", "n17", "\u{202E}reversed\u{202C} text"),
    ]

    func testEveryOddMessageIsMadeValidAndReadBackWhole() throws {
        var factory = ChatMessageFactory()
        let valid = Self.corpus.map { nick, room, id, text in
            ChatLimits.apply(ChatMessage(id: id, room: room, nick: nick, text: text, time: Self.time),
                             defaultNick: "chatcast", defaultRoom: "lobby", freshID: { factory.make(room: "", nick: "", text: "").id })
        }
        XCTAssertEqual(Set(valid.map(\.id)).count, valid.count, "ids stay unique")
        for m in valid {
            XCTAssertLessThanOrEqual(m.text.count, ChatLimits.maxTextCharacters)
            XCTAssertLessThanOrEqual(ChatEnvelope.messageJSON(m).utf8.count, ChatLimits.maxMessageJSONBytes)
            XCTAssertFalse(m.nick.isEmpty)
            XCTAssertFalse(m.nick.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            XCTAssertFalse(m.text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            let alone = try EnvelopeDecoder.read(ChatEnvelope(chat: [m]).encode())
            XCTAssertEqual(alone.envelope.chat, [m], "read back exactly: \(m.nick)")
        }
        XCTAssertEqual(valid[0].text, "a normal line")
        XCTAssertEqual(valid[1].text.count, ChatLimits.maxTextCharacters, "cut at the limit")
        XCTAssertEqual(valid[2].nick.count, ChatLimits.maxNickCharacters)
        XCTAssertEqual(valid[3].nick, "chatcast", "an empty nick takes the default")
        XCTAssertEqual(valid[3].room, "lobby")
        XCTAssertEqual(valid[5].text, "controls[31m everywhere")
        XCTAssertEqual(valid[7].text, Self.corpus[7].3, "markup stays literal")
        XCTAssertTrue(valid[9].text.allSatisfy { $0 == "\"" } && valid[9].text.count < 600, "cut to fit when escaping grows it")
        XCTAssertEqual(valid[12].text, "", "one character too big to fit is left out whole, never split")
        XCTAssertEqual(valid[13].room, "roomwithspacesandhashes")
        XCTAssertEqual(valid[14].room.count, ChatLimits.maxRoomCharacters)
        XCTAssertNotEqual(valid[14].id, Self.corpus[14].2, "an id too long is replaced, not cut (cut ids could collide)")
        XCTAssertEqual(valid[15].nick, "chatcast")

        // Packed together over as many frames as it takes, all of them arrive, in order.
        var rest = valid, delivered: [ChatMessage] = []
        while !rest.isEmpty {
            let packed = EnvelopePacker.pack(chat: rest, detections: nil)
            XCTAssertGreaterThan(packed.sent, 0)
            let read = try EnvelopeDecoder.read(packed.payload)
            XCTAssertEqual(read.droppedMessages, 0)
            delivered += read.envelope.chat
            rest = packed.rest
        }
        XCTAssertEqual(delivered, valid)
    }

    func testDetectionsAreMadeValidToo() throws {
        let odd = EnvelopeDetections(width: 100, height: 50, objects: [
            LabeledDetection(label: "", classId: -3, confidence: .nan, x: -10, y: 40, width: 500, height: 500),
            LabeledDetection(label: "ok\u{0}", classId: 2, confidence: 3, x: 10, y: 10, width: 10, height: 10),
            LabeledDetection(label: String(repeating: "L", count: 999), classId: 5_000_000, confidence: -1, x: 200, y: 200,
                             width: 1, height: 1)])
        let fixed = DetectionLimits.apply(odd)
        let read = try EnvelopeDecoder.read(ChatEnvelope(detections: fixed).encode())
        XCTAssertEqual(read.droppedObjects, 0)
        XCTAssertEqual(read.envelope.detections, fixed)
        XCTAssertEqual(fixed.objects[0], LabeledDetection(label: "object", classId: 0, confidence: 0, x: 0, y: 40, width: 100,
                                                          height: 10))
        XCTAssertEqual(fixed.objects[1].label, "ok")
    }

    private func crowd(_ count: Int) -> EnvelopeDetections {
        EnvelopeDetections(width: 1280, height: 720, objects: (0..<count).map {
            LabeledDetection(label: "person", classId: 0, confidence: Double($0 % 997) / 1000, x: $0 % 1200, y: $0 % 700,
                             width: 40, height: 20)
        })
    }

    /// The issue's crowded picture: 300 boxes a frame. Each frame carries at least the oldest
    /// waiting message, so the k-th waiting message arrives within k frames.
    func testChatGetsItsShareBesideHundredsOfBoxes() throws {
        let chat = (0..<20).map { ChatMessage(id: "c\($0)", room: "lobby", nick: "viewer\($0 % 3)",
                                              text: "line \($0) " + String(repeating: "x", count: $0 * 20), time: Self.time) }
        var rest = chat, delivered: [ChatMessage] = [], frames = 0
        while !rest.isEmpty && frames < 100 {
            let packed = EnvelopePacker.pack(chat: rest, detections: crowd(300))
            XCTAssertLessThanOrEqual(packed.payload.count, ChatEnvelope.maxPayloadBytes)
            let read = try EnvelopeDecoder.read(packed.payload)
            XCTAssertGreaterThanOrEqual(read.envelope.chat.count, 1, "frame \(frames) carries chat")
            XCTAssertGreaterThan(read.envelope.detections?.objects.count ?? 0, 20, "and still many boxes")
            XCTAssertEqual(read.envelope.detections?.objects.first?.confidence, 0.299, "the best scores are kept")
            delivered += read.envelope.chat
            rest = packed.rest
            frames += 1
        }
        XCTAssertEqual(delivered, chat)
        XCTAssertLessThanOrEqual(frames, chat.count)
        XCTAssertLessThan(frames, 10, "short lines go several to a frame")
    }

    func testTheLongestMessagesGoOneAFrameBesideFullDetections() throws {
        var factory = ChatMessageFactory()
        let longest = (0..<5).map { i in
            ChatLimits.apply(ChatMessage(id: "l\(i)", room: "lobby", nick: String(repeating: "n", count: 40),
                                         text: String(repeating: "\u{2028}", count: 600), time: Self.time),
                             defaultNick: "x", defaultRoom: "lobby", freshID: { factory.make(room: "", nick: "", text: "").id })
        }
        var rest = longest
        for frame in 0..<5 {
            let packed = EnvelopePacker.pack(chat: rest, detections: crowd(1000))
            XCTAssertLessThanOrEqual(packed.payload.count, ChatEnvelope.maxPayloadBytes)
            XCTAssertEqual(try EnvelopeDecoder.read(packed.payload).envelope.chat, [longest[frame]])
            rest = packed.rest
        }
        XCTAssertTrue(rest.isEmpty)
    }

    func testRepeatsOnAKeyFrameGiveWayToWaitingChat() throws {
        let repeats = (0..<8).map { ChatMessage(id: "r\($0)", room: "lobby", nick: "old",
                                                text: String(repeating: "r", count: 480), time: Self.time) }
        let waiting = [ChatMessage(id: "w", room: "lobby", nick: "new", text: "must go now", time: Self.time)]
        let packed = EnvelopePacker.pack(repeated: repeats, chat: waiting, detections: crowd(300))
        let read = try EnvelopeDecoder.read(packed.payload).envelope.chat
        XCTAssertEqual(read.last, waiting[0])
        XCTAssertEqual(packed.sent, 1)
        XCTAssertEqual(Array(read.dropLast()), Array(repeats.suffix(read.count - 1)), "the newest repeats stay, in order")
        XCTAssertLessThanOrEqual(packed.payload.count, ChatEnvelope.maxPayloadBytes)
    }

    func testNeverMoreMessagesThanTheReaderTakes() throws {
        let tiny = (0..<200).map { ChatMessage(id: "\($0)", room: "r", nick: "n", text: "", time: "t") }
        let packed = EnvelopePacker.pack(chat: tiny, detections: nil)
        XCTAssertEqual(packed.sent, EnvelopeDecoder.maxMessages)
        XCTAssertEqual(try EnvelopeDecoder.read(packed.payload).droppedMessages, 0)
    }
}
