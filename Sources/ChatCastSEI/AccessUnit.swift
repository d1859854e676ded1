/// H.264 access units as elements see them: Annex B (`byte-stream`) or length-prefixed
/// (`avc`). Inserting our SEI and finding envelopes both work on whole units, because
/// h264parse 1.22 keeps only the last user-data SEI of a frame.
public enum AccessUnitFormat: Equatable, Sendable {
    case annexB
    case lengthPrefixed(lengthSize: Int)
}

/// Everything here looks only at the NAL units before the first coded slice, where H.264
/// puts SEI (7.4.1.2.3): the picture data is neither scanned nor rewritten. Functions take
/// any contiguous bytes, so elements can work on a mapped buffer without copying it.
public enum AccessUnit {
    public typealias Bytes = RandomAccessCollection<UInt8>

    /// The ranges of the NAL units up to and including the first slice (whose range runs to
    /// the end of the unit), or nil when a length-prefixed unit is malformed.
    public static func leadingNALUnits<C: Bytes>(_ bytes: C, format: AccessUnitFormat, codec: VideoCodec = .h264) -> [Range<Int>]?
        where C.Index == Int
    {
        switch format {
        case .annexB: return NALUnits.annexB(bytes, untilFirstSlice: true, codec: codec)
        case let .lengthPrefixed(size): return NALUnits.lengthPrefixed(bytes, lengthSize: size, untilFirstSlice: true, codec: codec)
        }
    }

    /// `bytes` with `nal` placed directly before the first slice (after any encoder SEI,
    /// SPS, PPS), or appended when the unit has no slice. Nil when the unit is malformed.
    public static func inserting<C: Bytes>(_ nal: [UInt8], into bytes: C, format: AccessUnitFormat, codec: VideoCodec = .h264) -> [UInt8]?
        where C.Index == Int
    {
        contiguous(bytes) { inserting(nal, buffer: $0, format: format, codec: codec) }
    }

    public static func userData<C: Bytes>(in bytes: C, format: AccessUnitFormat, codec: VideoCodec = .h264,
                                          uuid: [UInt8] = UserDataUnregistered.chatCastUUID) -> (payloads: [[UInt8]], malformed: Int)
        where C.Index == Int
    {
        contiguous(bytes) { userData(buffer: $0, format: format, codec: codec, uuid: uuid) }
    }

    public static func removingUserData<C: Bytes>(_ bytes: C, format: AccessUnitFormat, codec: VideoCodec = .h264,
                                                  uuid: [UInt8] = UserDataUnregistered.chatCastUUID) -> [UInt8]?
        where C.Index == Int
    {
        contiguous(bytes) { removingUserData(buffer: $0, format: format, codec: codec, uuid: uuid) }
    }

    /// The work below runs on every access unit: on contiguous bytes, not generic indexing.
    private static func contiguous<C: Bytes, R>(_ bytes: C, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R where C.Index == Int {
        bytes.withContiguousStorageIfAvailable(body) ?? Array(bytes).withUnsafeBufferPointer(body)
    }

    private static func inserting(_ nal: [UInt8], buffer bytes: UnsafeBufferPointer<UInt8>, format: AccessUnitFormat,
                                  codec: VideoCodec) -> [UInt8]? {
        guard let units = leadingNALUnits(bytes, format: format, codec: codec) else { return nil }
        let firstSlice = units.first { NALUnits.isSlice(NALUnits.type(bytes[$0.lowerBound], codec: codec), codec: codec) }
        // Where the slice's own start code or length field begins.
        let at: Int
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + nal.count + 4)
        switch format {
        case .annexB:
            if let slice = firstSlice {
                var start = slice.lowerBound - 3
                if start > bytes.startIndex && bytes[start - 1] == 0 { start -= 1 }
                at = start
            } else {
                at = bytes.endIndex
            }
            out += bytes[bytes.startIndex..<at]
            out += [0, 0, 0, 1]
        case let .lengthPrefixed(size):
            guard nal.count < 1 << (8 * size) else { return nil }
            at = firstSlice.map { $0.lowerBound - size } ?? bytes.endIndex
            out += bytes[bytes.startIndex..<at]
            for k in (0..<size).reversed() { out.append(UInt8(truncatingIfNeeded: nal.count >> (8 * k))) }
        }
        out += nal
        out += bytes[at..<bytes.endIndex]
        return out
    }

    /// The payloads of every user_data_unregistered SEI message with `uuid` in the unit, in
    /// order, and how many SEI NAL units carrying such a UUID could not be read.
    private static func userData(buffer bytes: UnsafeBufferPointer<UInt8>, format: AccessUnitFormat, codec: VideoCodec,
                                 uuid: [UInt8]) -> (payloads: [[UInt8]], malformed: Int) {
        guard let units = leadingNALUnits(bytes, format: format, codec: codec) else { return ([], 1) }
        var payloads: [[UInt8]] = [], malformed = 0
        for unit in units where NALUnits.isSEI(NALUnits.type(bytes[unit.lowerBound], codec: codec), codec: codec) {
            let nal = Array(bytes[unit])
            do {
                for message in try SEIReader.userDataUnregistered(inNAL: nal[...], codec: codec) where message.uuid == uuid {
                    payloads.append(message.payload)
                }
            } catch {
                // Only count what looks like ours: x264's own SEI or others' are none of our business.
                if containsUUID(nal[...], uuid) { malformed += 1 }
            }
        }
        return (payloads, malformed)
    }

    /// `bytes` without the SEI NAL units that carry `uuid` (readable or not), or nil when
    /// the unit is malformed. Other NAL units keep their order and bytes; the slices are
    /// copied as they are.
    private static func removingUserData(buffer bytes: UnsafeBufferPointer<UInt8>, format: AccessUnitFormat, codec: VideoCodec,
                                         uuid: [UInt8]) -> [UInt8]? {
        guard let units = leadingNALUnits(bytes, format: format, codec: codec) else { return nil }
        let ours = units.filter {
            NALUnits.isSEI(NALUnits.type(bytes[$0.lowerBound], codec: codec), codec: codec) && containsUUID(Array(bytes[$0])[...], uuid)
        }
        guard !ours.isEmpty else { return Array(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for unit in units where !ours.contains(unit) {
            let isLast = unit.upperBound == bytes.endIndex && NALUnits.isSlice(NALUnits.type(bytes[unit.lowerBound], codec: codec), codec: codec)
            switch format {
            case .annexB: out += [0, 0, 0, 1]
            case let .lengthPrefixed(size):
                // The first slice's range runs to the end: copy its own length field and everything after.
                if isLast {
                    out += bytes[(unit.lowerBound - size)..<bytes.endIndex]
                    continue
                }
                for k in (0..<size).reversed() { out.append(UInt8(truncatingIfNeeded: unit.count >> (8 * k))) }
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
