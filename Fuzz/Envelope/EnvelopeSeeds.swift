#if canImport(Glibc)
import Glibc
#endif
import ChatCastSEI
import YoloCore

/// `CHATCAST_FUZZ_SEEDS=DIR fuzz-envelope` writes the seed corpus into DIR and exits
/// (scripts/fuzz.sh seeds): access units holding envelopes made by the encoder, in every
/// framing and codec the target reads, so the seeds follow the encoder when it changes.
@_cdecl("LLVMFuzzerInitialize")
public func writeEnvelopeSeeds(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutableRawPointer) -> CInt {
    guard let dir = getenv("CHATCAST_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, bytes) in envelopeSeeds() {
        guard let file = fopen("\(dir)/\(name)", "wb") else { fatalError("cannot write \(dir)/\(name)") }
        check(fwrite(bytes, 1, bytes.count, file) == bytes.count, "short write to \(dir)/\(name)")
        fclose(file)
    }
    exit(0)
}

func envelopeSeeds() -> [(String, [UInt8])] {
    let chat = [
        ChatMessage(id: "k3x-1", room: "lobby", nick: "alice", text: "hi", time: "2026-11-25T12:00:00.000Z"),
        ChatMessage(id: "k3x-2", room: "lobby", nick: "bob", text: "é \"quoted\" <b>ünïcödé</b> 🎉\\", time: "2026-11-25T12:00:00.250Z"),
    ]
    let boxes = EnvelopeDetections(width: 1280, height: 720, objects: [
        LabeledDetection(label: "person", classId: 0, confidence: 0.87, x: 10, y: 20, width: 100, height: 200),
        LabeledDetection(label: "sports ball", classId: 32, confidence: 0.5, x: 1180, y: 620, width: 100, height: 100)])
    let full = ChatEnvelope(chat: chat, detections: boxes).encode()
    let small = ChatEnvelope(chat: [chat[0]]).encode()
    var seeds: [(String, [UInt8])] = [
        ("raw-full", [FuzzMode.byte(codec: .h264, format: .annexB, rawPayload: true)] + full),
        ("raw-empty", [FuzzMode.byte(codec: .h264, format: .annexB, rawPayload: true)] + ChatEnvelope().encode()),
        ("raw-detections", [FuzzMode.byte(codec: .h264, format: .annexB, rawPayload: true)]
            + ChatEnvelope(detections: boxes).encode()),
    ]
    for codec in [VideoCodec.h264, .h265] {
        let name = codec == .h264 ? "h264" : "h265"
        for (format, label, payload) in [(AccessUnitFormat.annexB, "annexb", full), (.lengthPrefixed(lengthSize: 4), "avc4", full),
                                         (.lengthPrefixed(lengthSize: 2), "avc2", full), (.lengthPrefixed(lengthSize: 1), "avc1", small)] {
            let nal = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: payload).seiNAL(codec: codec)
            guard let unit = AccessUnit.inserting(nal, into: frame(codec, format), format: format, codec: codec) else {
                fatalError("the encoder's SEI does not fit a \(label) \(name) unit")
            }
            seeds.append(("\(name)-\(label)", [FuzzMode.byte(codec: codec, format: format)] + unit))
        }
    }
    return seeds
}

/// An encoder's access unit without our SEI: parameter sets, an x264-style SEI of another
/// UUID, and an IDR slice (fake slice bytes: nothing reads past the slice header).
func frame(_ codec: VideoCodec, _ format: AccessUnitFormat) -> [UInt8] {
    let other = UserDataUnregistered(uuid: Array(0..<16), payload: Array("x264 - core 164".utf8)).seiNAL(codec: codec)
    let units: [[UInt8]] = codec == .h264
        ? [[0x09, 0xF0], [0x67, 0x42, 0xC0, 0x1E, 0xD9], [0x68, 0xCE, 0x3C, 0x80], other, [0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x2F]]
        : [[0x40, 0x01, 0x0C], [0x42, 0x01, 0x01], [0x44, 0x01, 0xC1], other, [0x26, 0x01, 0xAF, 0x00, 0x00, 0x03, 0x02, 0x11]]
    var out: [UInt8] = []
    for (i, unit) in units.enumerated() {
        switch format {
        case .annexB: out += i == 0 ? [0, 0, 0, 1] : [0, 0, 1]
        case let .lengthPrefixed(size): for k in (0..<size).reversed() { out.append(UInt8(truncatingIfNeeded: unit.count >> (8 * k))) }
        }
        out += unit
    }
    return out
}
