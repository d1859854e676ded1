import Foundation
import Logging

/// swift-log's handler for the launcher: one whole line per event on stderr, `chatcast: …`,
/// clearing a status line drawn on a terminal first. The level comes from
/// `CHATCAST_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical; default info).
struct TerminalLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(label: String) {
        let name = ProcessInfo.processInfo.environment["CHATCAST_LOG_LEVEL"]?.lowercased() ?? ""
        logLevel = Logger.Level(rawValue: name) ?? .info
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let fields = metadata.merging(extra ?? [:]) { _, new in new }
        let suffix = fields.isEmpty ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let tag = level < .info ? "[\(level)] " : ""
        Terminal.write("chatcast: " + tag + message.description + suffix)
    }
}
