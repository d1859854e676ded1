import ChatCastJSON

/// libFuzzer entry for the JSON scanner. Beyond "no crash": what the scanner accepts, the
/// writer writes back as one line that reads back to the same value (per-frame lines and
/// envelopes go through exactly this write → read), and skipping a value accepts exactly
/// what building it accepts (the envelope decoder skips unknown fields).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let value = try? JSONParser.parse(bytes: bytes)
    let skipped = (try? JSONScanner.scan(bytes, maxDepth: JSONParser.defaultMaxDepth) { try $0.skipValue() }) != nil
    check(skipped == (value != nil), "skipValue and value() disagree on \(describe(bytes))")
    guard let value else { return 0 }
    let written = JSONWriter.bytes(value)
    check(!written.contains(UInt8(ascii: "\n")), "written JSON spans lines: \(describe(written))")
    guard let again = try? JSONParser.parse(bytes: written) else {
        fatalError("the writer's \(describe(written)) does not read back (input \(describe(bytes)))")
    }
    check(again == value, "\(describe(bytes)) reads back as \(again), not \(value)")
    return 0
}

/// Input bytes as text for a failure message, short enough for a log.
func describe(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
    return bytes.count > 200 ? "\(text)… (\(bytes.count) bytes)" : text
}
