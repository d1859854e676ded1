import Foundation
import Yams

/// Loads and checks `*.yaml` presets: unknown keys, a bad kind, a placeholder without a
/// default (a typo) and a default no placeholder uses are refused with file, line and name.
public enum PresetLibrary {
    static let keys = ["name", "description", "kind", "pipeline", "audio", "defaults"]

    public static func load(directory: String) throws -> [Preset] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        let presets = try files.map { try load(file: (directory as NSString).appendingPathComponent($0)) }
        var seen: [String: String] = [:]
        for p in presets {
            if let other = seen[p.name] {
                throw PresetError(file: p.file, line: line(of: "name:", in: p.file), message: "preset name \(p.name) is also used by \(other)")
            }
            seen[p.name] = p.file
        }
        return presets
    }

    public static func load(file: String) throws -> Preset {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw PresetError(file: file, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> Preset {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw PresetError(file: file, line: yamlLine(error), message: "not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else { throw PresetError(file: file, line: 1, message: "expected keys name, kind, pipeline…") }
        for (key, _) in mapping {
            guard let k = key.string, keys.contains(k) else {
                throw PresetError(file: file, line: key.mark.map { $0.line }, message: "unknown key \"\(key.string ?? "?")\" "
                                      + "(known: \(keys.joined(separator: ", ")))")
            }
        }
        func required(_ key: String) throws -> (String, Int?) {
            guard let value = mapping[key], let s = value.string, !s.isEmpty else {
                throw PresetError(file: file, line: nil, message: "missing \"\(key)\"")
            }
            return (s, value.mark.map { $0.line })
        }
        let (name, _) = try required("name")
        let (kindText, kindLine) = try required("kind")
        guard let kind = Preset.Kind(rawValue: kindText) else {
            throw PresetError(file: file, line: kindLine, message: "kind \"\(kindText)\" is not one of "
                                  + Preset.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let (pipeline, _) = try required("pipeline")
        var defaults: [(key: String, value: String)] = []
        if let table = mapping["defaults"] {
            guard let entries = table.mapping else {
                throw PresetError(file: file, line: table.mark.map { $0.line }, message: "\"defaults\" must map names to values")
            }
            for (key, value) in entries {
                guard let k = key.string, let v = value.scalar?.string else {
                    throw PresetError(file: file, line: key.mark.map { $0.line }, message: "default \(key.string ?? "?") must be a plain value")
                }
                defaults.append((k, v))
            }
        }
        let audio = mapping["audio"]?.string
        let used = Preset.placeholders(in: pipeline + " " + (audio ?? ""))
        for placeholder in used where !defaults.contains(where: { $0.key == placeholder }) {
            throw PresetError(file: file, line: line(of: "${\(placeholder)}", inText: text),
                              message: "placeholder ${\(placeholder)} has no default (known: \(defaults.map(\.key).joined(separator: ", ")))")
        }
        for (key, _) in defaults where !used.contains(key) {
            throw PresetError(file: file, line: line(of: "\(key):", inText: text), message: "default \"\(key)\" is used by no placeholder")
        }
        return Preset(name: name, description: mapping["description"]?.string ?? "", kind: kind, pipeline: pipeline,
                      audio: audio, defaults: defaults, file: file)
    }

    static func line(of needle: String, in file: String) -> Int? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { line(of: needle, inText: $0) }
    }

    static func line(of needle: String, inText text: String) -> Int? {
        text.components(separatedBy: "\n").firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }

    static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
        default: return nil
        }
    }

    /// Where presets are: `CHATCAST_PRESETS`, `./pipelines`, beside the repository the
    /// executable was built in, or the installed share directory.
    public static func defaultDirectory(executable: String) -> String {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CHATCAST_PRESETS"], !env.isEmpty { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/pipelines")
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../share/chatcast/pipelines").standardized.path)
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../../../pipelines").standardized.path)
        candidates.append("/usr/share/chatcast/pipelines")
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }
}
