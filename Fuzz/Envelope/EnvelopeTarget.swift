import ChatCastSEI
import YoloCore

/// libFuzzer entry for everything a player runs on an incoming access unit: NAL splitting
/// (Annex B or length-prefixed, H.264 or H.265), SEI reading with emulation prevention and
/// the envelope decoder. The first byte picks how the rest is read (`FuzzMode`).
///
/// Beyond "no crash": an accepted envelope re-encodes to bytes the decoder accepts and that
/// encode again to the same bytes (the writer's output is the reader's input); our SEI
/// inserted into a unit reads back last; removing our SEI leaves none of it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = FuzzMode(data[0])
    let unit = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if mode.rawPayload {
        checkEnvelope(unit)
        return 0
    }
    let (payloads, _) = AccessUnit.userData(in: unit, format: mode.format, codec: mode.codec)
    for payload in payloads { checkEnvelope(payload) }
    guard AccessUnit.leadingNALUnits(unit, format: mode.format, codec: mode.codec) != nil else { return 0 }

    let ours = sampleEnvelope.encode()
    let nal = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: ours).seiNAL(codec: mode.codec)
    if let inserted = AccessUnit.inserting(nal, into: unit, format: mode.format, codec: mode.codec) {
        let found = AccessUnit.userData(in: inserted, format: mode.format, codec: mode.codec).payloads
        check(found.last == ours, "inserted SEI not read back last (\(found.count) payloads) in \(mode)")
    }
    guard let removed = AccessUnit.removingUserData(unit, format: mode.format, codec: mode.codec) else {
        fatalError("a unit that splits cannot have our SEI removed (\(mode))")
    }
    let left = AccessUnit.userData(in: removed, format: mode.format, codec: mode.codec)
    check(left.payloads.isEmpty && left.malformed == 0, "our SEI left after removal: \(left) in \(mode)")
    return 0
}

/// Decode → encode → decode: what the reader accepts, a relay can write again.
func checkEnvelope(_ payload: [UInt8]) {
    guard let envelope = try? EnvelopeDecoder.decode(payload) else { return }
    // The writer rounds confidences to four decimals: from its first output on, bytes are stable.
    let first = envelope.encode()
    // Re-encoding may grow (U+2028 is written escaped): past the SEI limit there is nothing to read back.
    guard first.count <= ChatEnvelope.maxPayloadBytes else { return }
    let reread: ChatEnvelope
    do { reread = try EnvelopeDecoder.decode(first) } catch {
        fatalError("the encoder's \(String(decoding: first, as: UTF8.self).debugDescription) is refused: \(error)")
    }
    check(reread.chat == envelope.chat, "chat changed through encode → decode")
    check(reread.detections?.objects.count == envelope.detections?.objects.count, "detections lost")
    check(reread.encode() == first, "encode is not stable for \(String(decoding: first, as: UTF8.self).debugDescription)")
}

/// A chat message and a box, as chatinject writes them.
let sampleEnvelope = ChatEnvelope(
    chat: [ChatMessage(id: "k3x-1", room: "lobby", nick: "alice", text: "hi <b>", time: "2026-11-25T12:00:00.000Z")],
    detections: EnvelopeDetections(width: 1280, height: 720, objects: [
        LabeledDetection(label: "ball", classId: 0, confidence: 0.93, x: 10, y: 20, width: 40, height: 40)]))
