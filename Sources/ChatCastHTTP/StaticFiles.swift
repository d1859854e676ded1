import Foundation
import NIOCore

/// The viewer's files (HTML, CSS, JavaScript), read once when the server starts so that
/// serving them never touches the disk from the event loop. Bounded: a web directory of the
/// wrong size is refused rather than loaded whole.
public struct StaticFiles: Sendable {
    public struct File: Sendable {
        public var bytes: ByteBuffer
        public var contentType: String
        public init(bytes: ByteBuffer, contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
        }
    }

    public static let maxFiles = 64
    public static let maxFileBytes = 1 << 20

    public private(set) var files: [String: File] = [:]

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case tooLarge(String)
        public var description: String {
            switch self {
            case let .unreadable(path): return "cannot read the viewer's files in \(path)"
            case let .tooLarge(path): return "\(path) holds more than \(StaticFiles.maxFiles) files or one over \(StaticFiles.maxFileBytes) bytes"
            }
        }
    }

    public init(files: [String: File] = [:]) { self.files = files }

    /// The regular files directly in `directory`, by name.
    public init(directory: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { throw Failure.unreadable(directory) }
        let visible = names.filter { !$0.hasPrefix(".") }.sorted()
        guard visible.count <= Self.maxFiles else { throw Failure.tooLarge(directory) }
        for name in visible {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
            guard data.count <= Self.maxFileBytes else { throw Failure.tooLarge(path) }
            files[name] = File(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(of: name))
        }
    }

    public subscript(name: String) -> File? { files[name] }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        default: return "application/octet-stream"
        }
    }
}
