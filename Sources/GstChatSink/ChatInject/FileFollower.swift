#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Follows a text file like `tail -f`: a thread reads, every 100 ms, whatever was appended,
/// and hands over complete lines. It starts at the file's end (what is there already was
/// meant for earlier streams) unless `fromStart`. A file that does not exist yet is waited
/// for and read whole once it appears; a truncated file is read again from the start.
/// With `fromStart`, what is already there is read before the constructor returns: a short
/// stream must not end before the thread first looks.
/// A line longer than `maxLineBytes` is skipped, not held: memory stays bounded.
final class FileFollower {
    static let maxLineBytes = 64 * 1024

    private let path: String
    private let fromStart: Bool
    private let onLine: (String) -> Void
    private let onLongLine: (Int) -> Void
    private var thread = pthread_t()
    private let stopping = Atomic<Bool>(false)
    // Reader state: touched by the constructor, then only by the thread it starts.
    private var offset = 0
    private var partial: [UInt8] = []
    /// Bytes of an over-long line dropped so far.
    private var skipping = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(path: String, fromStart: Bool, onLine: @escaping (String) -> Void, onLongLine: @escaping (Int) -> Void) {
        self.path = path
        self.fromStart = fromStart
        self.onLine = onLine
        self.onLongLine = onLongLine
        // Where to start is decided now, not when the thread first runs: lines appended
        // right after start belong to this stream.
        var offset = 0
        if !fromStart, let file = fopen(path, "rb") {
            fseek(file, 0, SEEK_END)
            offset = ftell(file)
            fclose(file)
        }
        self.offset = offset
        if fromStart { readAppended() }
        let retained = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let follower = Unmanaged<FileFollower>.fromOpaque(raw!).takeRetainedValue()
            follower.run()
            return nil
        }, retained.toOpaque())
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
    }

    private func run() {
        while !stopping.load(ordering: .relaxed) {
            usleep(100_000)
            readAppended()
        }
    }

    /// Hands over every complete line appended since the last read.
    private func readAppended() {
        guard let file = fopen(path, "rb") else { return }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = ftell(file)
        if size < offset {
            offset = 0
            partial = []
            skipping = 0
        }
        fseek(file, offset, SEEK_SET)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n == 0 { break }
            offset += n
            var from = 0
            while from < n {
                guard let newline = chunk[from..<n].firstIndex(of: 0x0A) else {
                    append(chunk[from..<n], to: &partial, skipping: &skipping)
                    break
                }
                append(chunk[from..<newline], to: &partial, skipping: &skipping)
                if skipping > 0 {
                    onLongLine(skipping)
                } else {
                    onLine(String(decoding: partial, as: UTF8.self))
                }
                partial.removeAll(keepingCapacity: partial.count <= 4096)
                skipping = 0
                from = newline + 1
            }
        }
    }

    private func append(_ bytes: ArraySlice<UInt8>, to partial: inout [UInt8], skipping: inout Int) {
        if skipping > 0 {
            skipping += bytes.count
        } else if partial.count + bytes.count > Self.maxLineBytes {
            skipping = partial.count + bytes.count
            partial.removeAll()
        } else {
            partial += bytes
        }
    }
}
