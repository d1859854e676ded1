import ChatCastSEI
import YoloCore
import XCTest

/// Property: no byte sequence makes the SEI reader or the envelope decoder crash, hang or
/// accept something that re-encodes differently. Deterministic (seeded) so CI is bounded.
final class FuzzPropertyTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Seeds: a valid envelope NAL, one with chat and detections, and edge shapes.
    static var corpus: [[UInt8]] {
        let full = ChatEnvelope(chat: [ChatMessage(id: "1", room: "lobby", nick: "bob", text: "yo <b>", time: "t")],
                                detections: EnvelopeDetections(width: 64, height: 48, objects: [
                                    LabeledDetection(label: "ball", classId: 0, confidence: 0.5, x: 1, y: 2, width: 3, height: 4)]))
        return [UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: full.encode()).seiNAL(),
                UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: ChatEnvelope().encode()).seiNAL(),
                [0x06, 0x80], [0x06, 0x05, 0x10] + Array(repeating: 0, count: 16) + [0x80]]
    }

    func testMutatedSEINeverCrashesAndRoundTripsWhatItAccepts() {
        var rng = SplitMix(state: 0xC4A7_CA57)
        var accepted = 0
        for iteration in 0..<30_000 {
            var nal = Self.corpus[iteration % Self.corpus.count]
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                guard !nal.isEmpty else { break }
                let at = Int.random(in: 0..<nal.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: nal[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 1: nal.remove(at: at)
                case 2: nal.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                default: nal = Array(nal.prefix(at))
                }
            }
            guard let messages = try? SEIReader.userDataUnregistered(inNAL: nal) else { continue }
            for message in messages {
                guard let envelope = try? EnvelopeDecoder.decode(message.payload) else { continue }
                accepted += 1
                // Chat comes back exactly; confidences are written to 4 decimals, so the
                // whole envelope is stable from its first re-encoding on. (Re-encoding may
                // grow it past 4 KiB: U+2028 is written escaped.)
                let encoded = envelope.encode()
                guard encoded.count <= ChatEnvelope.maxPayloadBytes else { continue }
                let once = try? EnvelopeDecoder.decode(encoded)
                XCTAssertEqual(once?.chat, envelope.chat)
                XCTAssertEqual(once.flatMap { try? EnvelopeDecoder.decode($0.encode()) }, once)
            }
        }
        XCTAssertGreaterThan(accepted, 0, "mutations never produced a valid envelope: the corpus is wrong")
    }

    func testRandomBytesNeverCrash() {
        var rng = SplitMix(state: 42)
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? SEIReader.userDataUnregistered(inNAL: [0x06] + bytes)
            _ = try? EnvelopeDecoder.decode(bytes)
            _ = NALUnits.annexB(bytes)
            _ = NALUnits.lengthPrefixed(bytes)
        }
    }
}
