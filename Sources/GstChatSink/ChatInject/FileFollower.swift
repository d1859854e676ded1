#if canImport(Glibc)
import Glibc
#endif
import Locking

/// Follows a text file like `tail -f`: a thread reads, every 100 ms, whatever was appended,
/// and hands over complete lines. It starts at the file's end (what is there already was
/// meant for earlier streams) unless `fromStart`. A file that does not exist yet is waited
/// for and read whole once it appears; a truncated file is read again from the start.
/// With `fromStart`, what is already there is read before the constructor returns: a short
/// stream must not end before the thread first looks.
/// A line longer than `maxLineBytes` is skipped, not held: memory stays bounded.
final class FileFollower: Sendable {
    static let maxLineBytes = 64 * 1024

    private let thread: pthread_t
    private let stopping: StopFlag

    init(path: String, fromStart: Bool, onLine: @escaping @Sendable (String) -> Void,
         onLongLine: @escaping @Sendable (Int) -> Void) {
        let reader = FileReader(path: path, fromStart: fromStart, onLine: onLine, onLongLine: onLongLine)
        if fromStart { reader.readAppended() }
        let stopping = StopFlag()
        self.stopping = stopping
        // The reader goes to the thread and is touched by nothing else from here on.
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            let (reader, stopping) = Unmanaged<ReaderHandoff>.fromOpaque(raw!).takeRetainedValue().parts
            while !stopping.value.withLock({ $0 }) {
                usleep(100_000)
                reader.readAppended()
            }
            return nil
        }, Unmanaged.passRetained(ReaderHandoff(reader, stopping)).toOpaque())
        self.thread = thread
    }

    /// Ends the thread and waits for it (at most one read, 100 ms and a file's new lines).
    func stop() {
        stopping.value.withLock { $0 = true }
        pthread_join(thread, nil)
    }
}

private final class StopFlag: Sendable {
    let value = Mutex(false)
}

/// The reader and its stop flag on their way into the thread.
private final class ReaderHandoff {
    let parts: (FileReader, StopFlag)
    init(_ reader: FileReader, _ stopping: StopFlag) { parts = (reader, stopping) }
}

/// Where the follower is in the file, and the line it has begun.
private final class FileReader {
    private let path: String
    private let onLine: @Sendable (String) -> Void
    private let onLongLine: @Sendable (Int) -> Void
    private var offset = 0
    private var partial: [UInt8] = []
    /// Bytes of an over-long line dropped so far.
    private var skipping = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(path: String, fromStart: Bool, onLine: @escaping @Sendable (String) -> Void, onLongLine: @escaping @Sendable (Int) -> Void) {
        self.path = path
        self.onLine = onLine
        self.onLongLine = onLongLine
        // Where to start is decided now, not when the thread first runs: lines appended
        // right after start belong to this stream.
        if !fromStart, let file = fopen(path, "rb") {
            fseek(file, 0, SEEK_END)
            offset = ftell(file)
            fclose(file)
        }
    }

    /// Hands over every complete line appended since the last read.
    func readAppended() {
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
                    append(chunk[from..<n])
                    break
                }
                append(chunk[from..<newline])
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

    private func append(_ bytes: ArraySlice<UInt8>) {
        if skipping > 0 {
            skipping += bytes.count
        } else if partial.count + bytes.count > FileFollower.maxLineBytes {
            skipping = partial.count + bytes.count
            partial.removeAll()
        } else {
            partial += bytes
        }
    }
}
