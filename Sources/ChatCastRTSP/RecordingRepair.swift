import Foundation

/// Gives a Matroska recording that was never closed (the server was killed) its duration.
/// matroskamux reserves the segment's Duration and writes it when the file ends; until then
/// it is 0 and players show no length. The clusters are all there (written as they go), so
/// the duration is read from their block times and written into the reserved field.
public enum RecordingRepair {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The duration (seconds) written into `path`, or nil when it already had one.
    @discardableResult
    public static func repairDuration(of path: String) throws -> Double? {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        let bytes = [UInt8](data)
        let reader = EBMLReader(bytes: bytes)
        guard let header = reader.element(at: 0), header.id == 0x1A45_DFA3,
              let segment = reader.element(at: header.end), segment.id == 0x1853_8067 else {
            throw Failure(description: "\(path) is not a Matroska file")
        }
        var scale = 1_000_000.0  // TimecodeScale default: milliseconds
        var durationAt: (offset: Int, size: Int)?
        var existing = 0.0
        var first: Double?, last: Double?, gap = 0.0
        var at = segment.body
        while let element = reader.element(at: at, within: segment.end) {
            switch element.id {
            case 0x1549_A966:  // Info
                var inner = element.body
                while let field = reader.element(at: inner, within: element.end) {
                    if field.id == 0x2A_D7B1, let value = reader.unsigned(field) { scale = Double(value) }
                    if field.id == 0x4489 {
                        durationAt = (field.body, field.size)
                        existing = reader.float(field) ?? 0
                    }
                    inner = field.end
                }
            case 0x1F43_B675:  // Cluster: Timecode, then blocks relative to it
                var clusterTime = 0.0
                var inner = element.body
                while let field = reader.element(at: inner, within: element.end) {
                    if field.id == 0xE7, let value = reader.unsigned(field) { clusterTime = Double(value) }
                    var block: EBMLReader.Element? = field.id == 0xA3 ? field : nil
                    if field.id == 0xA0 {  // BlockGroup: its Block
                        var g = field.body
                        while let part = reader.element(at: g, within: field.end) {
                            if part.id == 0xA1 { block = part }
                            g = part.end
                        }
                    }
                    if let block, let relative = reader.blockTime(block) {
                        let time = clusterTime + Double(relative)
                        if let previous = last, time > previous { gap = time - previous }
                        first = min(first ?? time, time)
                        last = max(last ?? time, time)
                    }
                    inner = field.end
                }
            default: break
            }
            at = element.end
        }
        guard let durationAt, durationAt.size == 8 || durationAt.size == 4 else {
            throw Failure(description: "\(path) has no Duration field to fill")
        }
        guard existing <= 0 else { return nil }
        guard let first, let last else { throw Failure(description: "\(path) holds no frames") }
        let duration = last - min(first, 0) + gap
        var out = duration.bitPattern.bigEndian
        let field = durationAt.size == 8
            ? withUnsafeBytes(of: &out) { Data($0) }
            : withUnsafeBytes(of: Float(duration).bitPattern.bigEndian) { Data($0) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw Failure(description: "cannot write \(path)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(durationAt.offset))
        try handle.write(contentsOf: field)
        return duration * scale / 1e9
    }
}

/// Reads EBML elements (ID, size, body) with every offset checked against the file's end; an
/// element of unknown size (a cluster cut off by a crash) runs to the end of its parent.
struct EBMLReader {
    struct Element {
        var id: UInt32
        var body: Int
        var end: Int
        var size: Int { end - body }
    }

    let bytes: [UInt8]

    func element(at offset: Int, within limit: Int? = nil) -> Element? {
        let limit = min(limit ?? bytes.count, bytes.count)
        guard offset < limit, let (id, idLength) = vint(at: offset, keepMarker: true), idLength <= 4,
              let (size, sizeLength) = vint(at: offset + idLength, keepMarker: false) else { return nil }
        let body = offset + idLength + sizeLength
        guard body <= limit else { return nil }
        let unknown = size == (UInt64(1) << (7 * UInt64(sizeLength))) - 1
        if unknown { return Element(id: UInt32(id), body: body, end: limit) }
        guard size <= UInt64(limit - body) else { return nil }  // cut off mid-element: stop here
        return Element(id: UInt32(id), body: body, end: body + Int(size))
    }

    func unsigned(_ e: Element) -> UInt64? {
        guard e.size >= 1, e.size <= 8 else { return nil }
        return bytes[e.body..<e.end].reduce(0) { $0 << 8 | UInt64($1) }
    }

    func float(_ e: Element) -> Double? {
        guard let raw = unsigned(e) else { return nil }
        switch e.size {
        case 8: return Double(bitPattern: raw)
        case 4: return Double(Float(bitPattern: UInt32(raw)))
        default: return nil
        }
    }

    /// A (Simple)Block's time relative to its cluster: after the track number, 16 bits signed.
    func blockTime(_ e: Element) -> Int16? {
        guard let (_, trackLength) = vint(at: e.body, keepMarker: false), e.body + trackLength + 2 <= e.end else { return nil }
        let at = e.body + trackLength
        return Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
    }

    private func vint(at offset: Int, keepMarker: Bool) -> (UInt64, Int)? {
        guard offset < bytes.count, bytes[offset] != 0 else { return nil }
        let length = bytes[offset].leadingZeroBitCount + 1
        guard offset + length <= bytes.count else { return nil }
        var value = UInt64(keepMarker ? bytes[offset] : bytes[offset] & (0xFF >> length))
        for i in 1..<length { value = value << 8 | UInt64(bytes[offset + i]) }
        return (value, length)
    }
}
