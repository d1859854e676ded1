import Foundation
import Yams

/// `chatcast serve --config FILE`: the same settings as serve's flags (a flag given on the
/// command line wins), plus what flags cannot say well — rooms the server runs detection on
/// and fixed mounts served from publish presets. Unknown keys, wrong types and impossible
/// combinations are refused with the file and line.
///
/// ```yaml
/// rtsp-port: 8554
/// publish-password: secret
/// rooms:
///   lobby: {detect: true, output: lobby-detected, set: {confidence: 0.4}}
/// mounts:
///   /clock: {preset: test, set: {pattern: smpte}}
/// ```
public struct ServeConfig: Equatable, Sendable {
    /// Settings named like serve's long flags, as text (checked by the flag parser).
    public static let settingKeys = ["bind", "rtsp-port", "irc-port", "data-dir", "irc-password", "publish-user",
                                     "publish-password", "max-viewers", "max-connections", "rate-limit", "tls-cert", "tls-key",
                                     "record-dir", "record-segment-seconds", "record-segment-megabytes", "server-name",
                                     "history-days", "history-max-messages"]
    static let sectionKeys = ["rooms", "mounts", "operators"]

    /// A room whose stream the server re-publishes with detections (the relay-detect preset).
    public struct DetectedRoom: Equatable, Sendable {
        public var room: String
        /// The room the detected stream is published to.
        public var output: String
        public var model: String?
        /// Other relay-detect placeholder values.
        public var settings: [String: String]

        public init(room: String, output: String, model: String?, settings: [String: String]) {
            (self.room, self.output, self.model, self.settings) = (room, output, model, settings)
        }
    }

    /// A path the server serves itself from a publish preset (test, camera or file).
    public struct Mount: Equatable, Sendable {
        public var path: String
        public var preset: String
        public var input: String?
        public var detect: Bool
        public var settings: [String: String]

        public init(path: String, preset: String, input: String?, detect: Bool, settings: [String: String]) {
            (self.path, self.preset, self.input, self.detect, self.settings) = (path, preset, input, detect, settings)
        }

        /// The room whose chat is stamped in and whose topic is the mount's URL.
        public var room: String { String(path.dropFirst()) }
    }

    public var settings: [String: String] = [:]
    public var detectedRooms: [DetectedRoom] = []
    /// Rooms marked `record: true`.
    public var recordedRooms: [String] = []
    public var mounts: [Mount] = []
    /// Chat server operators: name → password, plain or `sha256$SALT$HEX`.
    public var operators: [String: String] = [:]
    public var file = ""

    public init() {}

    public static func load(file: String) throws -> ServeConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw PresetError(file: file, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> ServeConfig {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw PresetError(file: file, line: PresetLibrary.yamlLine(error), message: "not valid YAML: \(error)")
        }
        var config = ServeConfig()
        config.file = file
        guard let node else { return config }  // an empty file changes nothing
        guard let mapping = node.mapping else { throw PresetError(file: file, line: line(node), message: "expected settings as KEY: VALUE") }
        for (key, value) in mapping {
            let name = key.string ?? "?"
            if settingKeys.contains(name) {
                config.settings[name] = try scalar(value, of: name, file: file)
            } else if name == "rooms" {
                (config.detectedRooms, config.recordedRooms) = try rooms(value, file: file)
            } else if name == "mounts" {
                config.mounts = try mounts(value, file: file)
            } else if name == "operators" {
                config.operators = try operators(value, file: file)
            } else {
                throw PresetError(file: file, line: line(key),
                                  message: "unknown key \"\(name)\" (known: \((settingKeys + sectionKeys).joined(separator: ", ")))")
            }
        }
        try config.checkNames()
        return config
    }

    static let roomKeys = ["detect", "output", "model", "set", "record"]

    /// `operators: {alice: {password: "sha256$…"}}`: who may OPER on the chat server.
    private static func operators(_ node: Node, file: String) throws -> [String: String] {
        guard let mapping = node.mapping else {
            throw PresetError(file: file, line: line(node), message: "\"operators\" maps operator names to {password: …}")
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard !name.isEmpty, name.utf8.count <= 30, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw PresetError(file: file, line: line(key), message: "operator name \"\(name)\" must be letters, digits, - _ or .")
            }
            let entries = try table(value, of: "operator \(name)", keys: ["password"], file: file)
            guard let password = entries["password"] else {
                throw PresetError(file: file, line: line(key), message: "operator \(name) needs a password")
            }
            let text = try scalar(password, of: "password", file: file)
            guard !text.isEmpty else { throw PresetError(file: file, line: line(password), message: "operator \(name): empty password") }
            result[name] = text
        }
        return result
    }
    static let mountKeys = ["preset", "input", "detect", "set"]

    private static func rooms(_ node: Node, file: String) throws -> ([DetectedRoom], [String]) {
        guard let rooms = node.mapping else { throw PresetError(file: file, line: line(node), message: "\"rooms\" maps room names to settings") }
        var result: [DetectedRoom] = []
        var recorded: [String] = []
        for (key, value) in rooms {
            let room = try roomName(key, file: file)
            let entries = try table(value, of: "room \(room)", keys: roomKeys, file: file)
            if try entries["record"].map({ try bool($0, of: "record", file: file) }) ?? false { recorded.append(room) }
            guard try entries["detect"].map({ try bool($0, of: "detect", file: file) }) ?? false else { continue }
            let output = try entries["output"].map { try roomName($0, file: file) } ?? room + "-detected"
            guard output.lowercased() != room.lowercased() else {
                throw PresetError(file: file, line: line(entries["output"] ?? key),
                                  message: "room \(room): the detected stream needs a room of its own (output)")
            }
            result.append(DetectedRoom(room: room, output: output, model: try entries["model"].map { try scalar($0, of: "model", file: file) },
                                       settings: try values(entries["set"], file: file)))
        }
        return (result, recorded)
    }

    private static func mounts(_ node: Node, file: String) throws -> [Mount] {
        guard let mounts = node.mapping else { throw PresetError(file: file, line: line(node), message: "\"mounts\" maps /paths to settings") }
        var result: [Mount] = []
        for (key, value) in mounts {
            let path = key.string ?? ""
            guard path.hasPrefix("/"), RoomNames.isValid(String(path.dropFirst())) else {
                throw PresetError(file: file, line: line(key), message: "mount \"\(path)\" must be /ROOM (letters, digits, -, _ and .)")
            }
            let entries = try table(value, of: "mount \(path)", keys: mountKeys, file: file)
            let preset = try entries["preset"].map { try scalar($0, of: "preset", file: file) } ?? "test"
            guard ["test", "camera", "file"].contains(preset) else {
                throw PresetError(file: file, line: line(entries["preset"] ?? key), message: "mount \(path): preset must be test, camera or file")
            }
            let input = try entries["input"].map { try scalar($0, of: "input", file: file) }
            if preset == "file" && input == nil {
                throw PresetError(file: file, line: line(key), message: "mount \(path): preset file needs input: PATH")
            }
            result.append(Mount(path: path, preset: preset, input: input,
                                detect: try entries["detect"].map { try bool($0, of: "detect", file: file) } ?? false,
                                settings: try values(entries["set"], file: file)))
        }
        return result
    }

    /// A room is either published to (and maybe detected) or a fixed mount, and a detected
    /// stream's room is nobody else's.
    private func checkNames() throws {
        var owners: [String: String] = [:]
        func claim(_ room: String, _ by: String) throws {
            if let other = owners[room.lowercased()] {
                throw PresetError(file: file, line: nil, message: "room \(room) is used by both \(other) and \(by)")
            }
            owners[room.lowercased()] = by
        }
        for room in detectedRooms {
            try claim(room.room, "rooms.\(room.room)")
            try claim(room.output, "rooms.\(room.room).output")
        }
        for mount in mounts { try claim(mount.room, "mounts.\(mount.path)") }
    }

    // MARK: YAML helpers

    private static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    private static func scalar(_ node: Node, of name: String, file: String) throws -> String {
        guard let value = node.scalar?.string else {
            throw PresetError(file: file, line: line(node), message: "\"\(name)\" must be a plain value")
        }
        return value
    }

    private static func bool(_ node: Node, of name: String, file: String) throws -> Bool {
        switch try scalar(node, of: name, file: file).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw PresetError(file: file, line: line(node), message: "\"\(name)\" must be true or false")
        }
    }

    private static func roomName(_ node: Node, file: String) throws -> String {
        let name = node.string ?? ""
        guard RoomNames.isValid(name) else {
            throw PresetError(file: file, line: line(node), message: "\"\(name)\" is not a room name (letters, digits, -, _ and .)")
        }
        return name
    }

    private static func table(_ node: Node, of what: String, keys: [String], file: String) throws -> [String: Node] {
        guard let mapping = node.mapping else {
            throw PresetError(file: file, line: line(node), message: "\(what) takes settings (\(keys.joined(separator: ", ")))")
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let k = key.string, keys.contains(k) else {
                throw PresetError(file: file, line: line(key),
                                  message: "\(what): unknown key \"\(key.string ?? "?")\" (known: \(keys.joined(separator: ", ")))")
            }
            result[k] = value
        }
        return result
    }

    /// `set:` — placeholder values for the preset.
    private static func values(_ node: Node?, file: String) throws -> [String: String] {
        guard let node else { return [:] }
        guard let mapping = node.mapping else { throw PresetError(file: file, line: line(node), message: "\"set\" maps placeholders to values") }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let k = key.string else { throw PresetError(file: file, line: line(key), message: "a placeholder name must be text") }
            result[k] = try scalar(value, of: k, file: file)
        }
        return result
    }
}

/// Room names as they appear in paths and channel names (the RTSP server's rule).
public enum RoomNames {
    public static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-_.".contains($0) }
    }
}
