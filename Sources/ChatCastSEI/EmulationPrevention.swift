/// H.264 emulation prevention (7.4.1): inside a NAL unit, two zero bytes followed by a byte
/// ≤ 3 would read as a start code, so writers insert 0x03 after the zeros and readers
/// remove it.
public enum EmulationPrevention {
    public static func escape(_ rbsp: [UInt8]) -> [UInt8] {
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
}
