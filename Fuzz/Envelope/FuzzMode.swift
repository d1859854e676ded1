import ChatCastSEI

/// How the envelope target reads an input, from its first byte: bit 0 the codec, bits 1-2
/// the framing (Annex B, or 4-, 2-, 1-byte lengths), bit 3 "the rest is an envelope payload".
struct FuzzMode: CustomStringConvertible {
    let codec: VideoCodec
    let format: AccessUnitFormat
    let rawPayload: Bool

    init(_ byte: UInt8) {
        codec = byte & 1 == 0 ? .h264 : .h265
        switch (byte >> 1) & 3 {
        case 0: format = .annexB
        case 1: format = .lengthPrefixed(lengthSize: 4)
        case 2: format = .lengthPrefixed(lengthSize: 2)
        default: format = .lengthPrefixed(lengthSize: 1)
        }
        rawPayload = byte & 8 != 0
    }

    /// The first byte that selects this mode.
    static func byte(codec: VideoCodec, format: AccessUnitFormat, rawPayload: Bool = false) -> UInt8 {
        let framing: UInt8
        switch format {
        case .annexB: framing = 0
        case let .lengthPrefixed(size): framing = size == 4 ? 1 : size == 2 ? 2 : 3
        }
        return (codec == .h265 ? 1 : 0) | framing << 1 | (rawPayload ? 8 : 0)
    }

    var description: String { rawPayload ? "raw payload" : "\(codec) \(format)" }
}
