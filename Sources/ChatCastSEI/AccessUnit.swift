/// H.264 access units as elements see them: Annex B (`byte-stream`) or length-prefixed
/// (`avc`). Inserting our SEI and finding envelopes both work on whole units, because
/// h264parse 1.22 keeps only the last user-data SEI of a frame.
public enum AccessUnitFormat: Equatable, Sendable {
    case annexB
    case lengthPrefixed(lengthSize: Int)
}

public enum AccessUnit {
    /// The NAL unit ranges of `bytes`, or nil when a length-prefixed unit is malformed.
    public static func nalUnits(_ bytes: [UInt8], format: AccessUnitFormat) -> [Range<Int>]? {
        switch format {
        case .annexB: return NALUnits.annexB(bytes)
        case let .lengthPrefixed(size): return NALUnits.lengthPrefixed(bytes, lengthSize: size)
        }
    }

    /// `bytes` with `nal` placed directly before the first slice (after any encoder SEI,
    /// SPS, PPS), or appended when the unit has no slice. Nil when the unit is malformed.
    public static func inserting(_ nal: [UInt8], into bytes: [UInt8], format: AccessUnitFormat) -> [UInt8]? {
        guard let units = nalUnits(bytes, format: format) else { return nil }
        let firstSlice = units.first { NALUnits.isSlice(NALUnits.type(bytes[$0.lowerBound])) }
        let prefix: [UInt8]
        // Where the slice's own start code or length field begins.
        let at: Int
        switch format {
        case .annexB:
            prefix = [0, 0, 0, 1] + nal
            if let slice = firstSlice {
                var start = slice.lowerBound - 3
                if start > 0 && bytes[start - 1] == 0 { start -= 1 }
                at = start
            } else {
                at = bytes.count
            }
        case let .lengthPrefixed(size):
            guard nal.count < 1 << (8 * size) else { return nil }
            prefix = (0..<size).reversed().map { UInt8(truncatingIfNeeded: nal.count >> (8 * $0)) } + nal
            at = firstSlice.map { $0.lowerBound - size } ?? bytes.count
        }
        return Array(bytes[..<at]) + prefix + Array(bytes[at...])
    }

    /// The payloads of every user_data_unregistered SEI message with `uuid` in the unit, in
    /// order, and how many SEI NAL units carrying such a UUID could not be read.
    public static func userData(in bytes: [UInt8], format: AccessUnitFormat,
                                uuid: [UInt8] = UserDataUnregistered.chatCastUUID) -> (payloads: [[UInt8]], malformed: Int) {
        guard let units = nalUnits(bytes, format: format) else { return ([], 1) }
        var payloads: [[UInt8]] = [], malformed = 0
        for unit in units where NALUnits.type(bytes[unit.lowerBound]) == NALUnits.sei {
            do {
                payloads += try SEIReader.userDataUnregistered(inNAL: bytes[unit]).filter { $0.uuid == uuid }.map(\.payload)
            } catch {
                // Only count what looks like ours: x264's own SEI or others' are none of our business.
                if containsUUID(bytes[unit], uuid) { malformed += 1 }
            }
        }
        return (payloads, malformed)
    }

    /// `bytes` without the SEI NAL units that carry `uuid` (readable or not), or nil when
    /// the unit is malformed. Other NAL units keep their order and bytes.
    public static func removingUserData(_ bytes: [UInt8], format: AccessUnitFormat,
                                        uuid: [UInt8] = UserDataUnregistered.chatCastUUID) -> [UInt8]? {
        guard let units = nalUnits(bytes, format: format) else { return nil }
        let kept = units.filter { NALUnits.type(bytes[$0.lowerBound]) != NALUnits.sei || !containsUUID(bytes[$0], uuid) }
        guard kept.count != units.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for unit in kept {
            switch format {
            case .annexB: out += [0, 0, 0, 1]
            case let .lengthPrefixed(size):
                out += (0..<size).reversed().map { UInt8(truncatingIfNeeded: unit.count >> (8 * $0)) }
            }
            out += bytes[unit]
        }
        return out
    }

    private static func containsUUID(_ unit: ArraySlice<UInt8>, _ uuid: [UInt8]) -> Bool {
        let raw = EmulationPrevention.unescape(unit)
        guard raw.count >= uuid.count else { return false }
        return (0...(raw.count - uuid.count)).contains { raw[$0..<($0 + uuid.count)].elementsEqual(uuid) }
    }
}
