#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Follows a text file like `tail -f`: a thread reads what is there, then every 100 ms
/// whatever was appended, and hands over complete lines. A file that does not exist yet is
/// waited for; a truncated file is read again from the start.
final class FileFollower {
    private let path: String
    private let onLine: (String) -> Void
    private var thread = pthread_t()
    private let stopping = Atomic<Bool>(false)

    init(path: String, onLine: @escaping (String) -> Void) {
        self.path = path
        self.onLine = onLine
        let retained = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            Unmanaged<FileFollower>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, retained.toOpaque())
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
    }

    private func run() {
        var offset = 0
        var partial: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !stopping.load(ordering: .relaxed) {
            if let file = fopen(path, "rb") {
                fseek(file, 0, SEEK_END)
                let size = ftell(file)
                if size < offset {
                    offset = 0
                    partial = []
                }
                fseek(file, offset, SEEK_SET)
                while true {
                    let n = fread(&chunk, 1, chunk.count, file)
                    if n == 0 { break }
                    offset += n
                    partial += chunk[0..<n]
                    while let newline = partial.firstIndex(of: 0x0A) {
                        onLine(String(decoding: partial[..<newline], as: UTF8.self))
                        partial.removeSubrange(...newline)
                    }
                }
                fclose(file)
            }
            usleep(100_000)
        }
    }
}
