/// An SEI user_data_unregistered message (payload type 5): a 16-byte UUID and bytes.
public struct UserDataUnregistered: Equatable, Sendable {
    public var uuid: [UInt8]
    public var payload: [UInt8]

    public init(uuid: [UInt8], payload: [UInt8]) {
        precondition(uuid.count == 16)
        self.uuid = uuid
        self.payload = payload
    }

    /// ChatCast's UUID, 9f8ccd97-fb33-4dc7-a688-bc6dfa535d02 (DESIGN.md).
    public static let chatCastUUID: [UInt8] = [0x9f, 0x8c, 0xcd, 0x97, 0xfb, 0x33, 0x4d, 0xc7,
                                               0xa6, 0x88, 0xbc, 0x6d, 0xfa, 0x53, 0x5d, 0x02]

    /// A whole SEI NAL unit (header included, start code not) carrying this message, with
    /// emulation prevention applied: H.264 SEI, or an H.265 prefix SEI.
    public func seiNAL(codec: VideoCodec = .h264) -> [UInt8] {
        var rbsp: [UInt8] = []
        appendVariableLength(5, to: &rbsp)
        appendVariableLength(uuid.count + payload.count, to: &rbsp)
        rbsp += uuid
        rbsp += payload
        rbsp.append(0x80)  // rbsp_trailing_bits
        // H.264: nal_ref_idc 0, nal_unit_type 6. H.265: nal_unit_type 39, layer 0, temporal id 0.
        return (codec == .h264 ? [0x06] : [NALUnits.prefixSEI265 << 1, 0x01]) + EmulationPrevention.escape(rbsp)
    }

    /// payloadType and payloadSize: 0xFF for every full 255, then the rest.
    private func appendVariableLength(_ value: Int, to out: inout [UInt8]) {
        var rest = value
        while rest >= 255 {
            out.append(0xFF)
            rest -= 255
        }
        out.append(UInt8(rest))
    }
}

/// Why an SEI NAL unit was refused.
public struct SEIParseError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

public enum SEIReader {
    /// Every user_data_unregistered message of an SEI NAL unit (header included).
    /// Other payload types are skipped; a size that runs past the NAL, a truncated header
    /// or a missing trailing bit refuse the whole unit.
    public static func userDataUnregistered<C: Collection>(inNAL nal: C, codec: VideoCodec = .h264) throws -> [UserDataUnregistered]
        where C.Element == UInt8
    {
        guard let header = nal.first, NALUnits.isSEI(NALUnits.type(header, codec: codec), codec: codec),
              nal.count >= NALUnits.headerLength(codec) else {
            throw SEIParseError(description: "not an SEI NAL unit")
        }
        let rbsp = EmulationPrevention.unescape(nal.dropFirst(NALUnits.headerLength(codec)))
        var messages: [UserDataUnregistered] = []
        var i = 0
        func readVariableLength() throws -> Int {
            var value = 0
            while true {
                guard i < rbsp.count else { throw SEIParseError(description: "truncated SEI message header") }
                let byte = rbsp[i]
                i += 1
                value += Int(byte)
                if byte != 0xFF { return value }
                guard value < 1 << 24 else { throw SEIParseError(description: "absurd SEI size") }
            }
        }
        // more_rbsp_data: anything before the final 0x80 trailing byte.
        while i < rbsp.count && !(i == rbsp.count - 1 && rbsp[i] == 0x80) {
            let type = try readVariableLength()
            let size = try readVariableLength()
            guard size <= rbsp.count - i else {
                throw SEIParseError(description: "SEI payload size \(size) exceeds the \(rbsp.count - i) bytes left")
            }
            if type == 5 {
                guard size >= 16 else { throw SEIParseError(description: "user data shorter than its UUID") }
                messages.append(UserDataUnregistered(uuid: Array(rbsp[i..<(i + 16)]), payload: Array(rbsp[(i + 16)..<(i + size)])))
            }
            i += size
        }
        guard i == rbsp.count - 1 else { throw SEIParseError(description: "SEI without rbsp trailing bits") }
        return messages
    }
}
