#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer entry for RecordingRepair (compiled into this module with
/// Sources/ChatCastRTSP/RecordingRepair.swift: that target imports GStreamer, this file
/// needs only Foundation). It repairs a file, so each input is written to a scratch file
/// first. Beyond "no crash": a file given a positive duration is not repaired again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMatroska(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = scratchPath
    guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    check(size == 0 || fwrite(data, 1, size, file) == size, "short write to \(path)")
    fclose(file)
    guard let duration = try? RecordingRepair.repairDuration(of: path), duration > 0 else { return 0 }
    let again: Double?
    do { again = try RecordingRepair.repairDuration(of: path) } catch {
        fatalError("a repaired file no longer reads: \(error)")
    }
    check(again == nil, "a file repaired to \(duration) s was repaired again (\(again!) s)")
    return 0
}

/// One scratch file per process (libFuzzer's -fork/-jobs run several) in the temp directory.
let scratchPath: String = {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/chatcast-fuzz-matroska-\(getpid()).mkv"
}()
