/// H.264 emulation prevention (7.4.1): inside a NAL unit, two zero bytes followed by a byte
/// ≤ 3 would read as a start code, so writers insert 0x03 after the zeros and readers
/// remove it.
public enum EmulationPrevention {
    public static func escape(_ rbsp: [UInt8]) -> [UInt8] {
        // JSON text has no zero bytes: most payloads need no escaping at all.
        guard hasZeroPair(rbsp) else { return rbsp }
        var out: [UInt8] = []
        out.reserveCapacity(rbsp.count + rbsp.count / 64 + 4)
        var zeros = 0
        for byte in rbsp {
            if zeros >= 2 && byte <= 3 {
                out.append(3)
                zeros = 0
            }
            out.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return out
    }

    public static func unescape<C: Collection>(_ ebsp: C) -> [UInt8] where C.Element == UInt8 {
        if let plain = ebsp.withContiguousStorageIfAvailable({ hasZeroPair($0) ? nil : Array($0) }), let plain { return plain }
        var out: [UInt8] = []
        out.reserveCapacity(ebsp.count)
        var zeros = 0
        for byte in ebsp {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            out.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return out
    }

    /// Whether two consecutive zero bytes occur (only then can escaping change anything).
    static func hasZeroPair<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.withContiguousStorageIfAvailable { buffer -> Bool in
            var previousZero = false
            for byte in buffer {
                if byte == 0 {
                    if previousZero { return true }
                    previousZero = true
                } else {
                    previousZero = false
                }
            }
            return false
        } ?? true
    }
}
