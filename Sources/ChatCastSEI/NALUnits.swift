/// The two codecs whose access units carry our SEI: their NAL headers differ (H.264: one
/// byte, type in the low 5 bits; H.265: two bytes, type in bits 1-6 of the first).
public enum VideoCodec: Equatable, Sendable {
    case h264, h265
}

/// Where the NAL units of an access unit are.
public enum NALUnits {
    /// NAL unit payload ranges (start codes excluded) of an Annex B byte stream. Bytes
    /// before the first start code are ignored; trailing zeros of a unit belong to the next
    /// start code (`00 00 00 01`).
    ///
    /// With `untilFirstSlice`, scanning stops at the first coded slice, whose range then runs
    /// to the end: SEI, SPS and PPS precede the first slice of an access unit (H.264
    /// 7.4.1.2.3), so readers and writers of our SEI need not scan the picture data.
    public static func annexB<C: RandomAccessCollection>(_ bytes: C, untilFirstSlice: Bool = false, codec: VideoCodec = .h264) -> [Range<Int>]
        where C.Element == UInt8, C.Index == Int
    {
        // Scan contiguous bytes without generic indexing: this runs on every access unit.
        let base = bytes.startIndex
        let found = bytes.withContiguousStorageIfAvailable { annexB(buffer: $0, untilFirstSlice: untilFirstSlice, codec: codec) }
            ?? Array(bytes).withUnsafeBufferPointer { annexB(buffer: $0, untilFirstSlice: untilFirstSlice, codec: codec) }
        return base == 0 ? found : found.map { ($0.lowerBound + base)..<($0.upperBound + base) }
    }

    private static func annexB(buffer bytes: UnsafeBufferPointer<UInt8>, untilFirstSlice: Bool, codec: VideoCodec) -> [Range<Int>] {
        var starts: [(codeStart: Int, payload: Int)] = []
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i + 2 < end {
            if bytes[i + 2] > 1 {
                i += 3  // no start code can end at i, i + 1 or i + 2
            } else if bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1 {
                let codeStart = i > bytes.startIndex && bytes[i - 1] == 0 ? i - 1 : i
                starts.append((codeStart, i + 3))
                i += 3
                if untilFirstSlice, i < end, !startsStartCode(bytes, at: i), isSlice(type(bytes[i], codec: codec), codec: codec) { break }
            } else {
                i += 1
            }
        }
        return starts.enumerated().compactMap { index, start in
            var stop = index + 1 < starts.count ? starts[index + 1].codeStart : end
            // A zero byte before a 3-byte start code is trailing_zero_8bits, not payload.
            while stop > start.payload && bytes[stop - 1] == 0 && index + 1 < starts.count { stop -= 1 }
            return start.payload < stop ? start.payload..<stop : nil
        }
    }

    /// Whether a start code (3 or 4 bytes) begins at `i`: the unit before it is empty.
    private static func startsStartCode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + 2 < bytes.endIndex, bytes[i] == 0, bytes[i + 1] == 0 else { return false }
        return bytes[i + 2] == 1 || (bytes[i + 2] == 0 && i + 3 < bytes.endIndex && bytes[i + 3] == 1)
    }

    /// NAL unit ranges of an AVC (length-prefixed) sample, or nil when a length runs past
    /// the end.
    /// `untilFirstSlice` stops after the first coded slice, as for `annexB`.
    public static func lengthPrefixed<C: RandomAccessCollection>(_ bytes: C, lengthSize: Int = 4,
                                                                untilFirstSlice: Bool = false, codec: VideoCodec = .h264) -> [Range<Int>]?
        where C.Element == UInt8, C.Index == Int
    {
        guard (1...4).contains(lengthSize) else { return nil }
        var ranges: [Range<Int>] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard i + lengthSize <= bytes.endIndex else { return nil }
            var length = 0
            for k in 0..<lengthSize { length = length << 8 | Int(bytes[i + k]) }
            i += lengthSize
            guard length <= bytes.endIndex - i else { return nil }
            if untilFirstSlice, length > 0, isSlice(type(bytes[i], codec: codec), codec: codec) {
                ranges.append(i..<bytes.endIndex)
                break
            }
            if length > 0 { ranges.append(i..<(i + length)) }
            i += length
        }
        return ranges
    }

    /// nal_unit_type of a NAL unit's first byte.
    @inline(__always) public static func type(_ header: UInt8, codec: VideoCodec = .h264) -> UInt8 {
        codec == .h264 ? header & 0x1F : (header >> 1) & 0x3F
    }

    public static let sei: UInt8 = 6
    public static let accessUnitDelimiter: UInt8 = 9
    public static let sps: UInt8 = 7
    public static let pps: UInt8 = 8
    /// H.265's prefix and suffix SEI.
    public static let prefixSEI265: UInt8 = 39
    public static let suffixSEI265: UInt8 = 40

    /// Coded slice types: H.264 non-IDR and IDR; H.265 every VCL type (0-31).
    @inline(__always) public static func isSlice(_ type: UInt8, codec: VideoCodec = .h264) -> Bool {
        codec == .h264 ? type == 1 || type == 5 : type < 32
    }

    @inline(__always) public static func isSEI(_ type: UInt8, codec: VideoCodec = .h264) -> Bool {
        codec == .h264 ? type == sei : type == prefixSEI265 || type == suffixSEI265
    }

    /// Bytes of the NAL unit header before the RBSP.
    public static func headerLength(_ codec: VideoCodec) -> Int { codec == .h264 ? 1 : 2 }
}
