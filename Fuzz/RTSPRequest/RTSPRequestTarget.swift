#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer entry for the one part of an RTSP request ChatCast judges itself: the Scale and
/// Speed of a PLAY (PlaybackRate, compiled into this module: its target imports GStreamer).
/// Everything else in a request (request line, headers, Authorization, Transport, Range,
/// the URL) is parsed by gst-rtsp-server before our hooks see it. The first byte says which
/// headers are present; the rest is their values, split at the first LF, each read up to a
/// NUL as the server's C string is.
///
/// Beyond "no crash": a PLAY that is let through reaches gst-rtsp-server 1.22.0 (which parses
/// each value with g_ascii_strtod, strtod in the C locale as here) at rate 1 or is refused by
/// it as unreadable, never at the zero, negative or NaN rate that aborts it (CVE-2024-44331);
/// and a plain decimal number is judged by its value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRTSPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let lf = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.count
    let values = [rest[..<lf], rest[min(lf + 1, rest.count)...]].map { $0.prefix { $0 != 0 } }
    let scale = data[0] & 1 != 0 ? Array(values[0]) : nil
    let speed = data[0] & 2 != 0 ? Array(values[1]) : nil
    let verdict = PlaybackRate.judge(scale: scale.map { String(decoding: $0, as: UTF8.self) },
                                     speed: speed.map { String(decoding: $0, as: UTF8.self) })
    let gst = [scale, speed].map { $0.map(gstRate) }
    if verdict == .accepted {
        for case let rate?? in gst {
            check(rate == 1, "accepted, but gst-rtsp-server reads rate \(rate) from \(describe(rest))")
        }
    }
    // Digits with at most one point, between spaces (RFC 2326's form): judged by their value.
    let plain = [scale, speed].map { $0.map(plainDecimal) }
    if !plain.contains(where: { $0 != nil && $0! == nil }) {
        let rates = plain.compactMap { $0 ?? nil }
        switch verdict {
        case .accepted: check(rates.allSatisfy { $0 == 1 }, "\(describe(rest)): rates \(rates) accepted")
        case .unsupported: check(rates.contains { $0 != 1 }, "\(describe(rest)): rates \(rates) refused")
        case .malformed: check(rates.contains { $0 <= 0 }, "\(describe(rest)): rates \(rates) judged malformed")
        }
    }
    return 0
}

/// What gst-rtsp-server's parse_header_value_double makes of a value: nil when it refuses
/// it (nothing read), else the number g_ascii_strtod reads from its start.
func gstRate(_ value: [UInt8]) -> Double? {
    (value + [0]).withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { start in
            var end: UnsafeMutablePointer<CChar>? = nil
            let rate = strtod(start, &end)
            return end == UnsafeMutablePointer(mutating: start) ? nil : rate
        }
    }
}

/// The value of `1*DIGIT ["." *DIGIT]` between ASCII spaces, or nil for anything else.
func plainDecimal(_ value: [UInt8]) -> Double? {
    let trimmed = value.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }.reversed()
    let parts = trimmed.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
    guard trimmed.count <= 40, let whole = parts.first, !whole.isEmpty,
          parts.allSatisfy({ $0.allSatisfy { (0x30...0x39).contains($0) } }) else { return nil }
    return gstRate(Array(trimmed))
}

/// Bytes as text for a failure message.
func describe(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription }
