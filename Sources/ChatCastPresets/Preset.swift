/// A pipeline preset from `pipelines/NAME.yaml`: a gst-launch description with
/// `${placeholders}`, each with a default that `--set key=value` may replace.
public struct Preset: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable { case publish, relay, play, mount }

    public var name: String
    public var description: String
    public var kind: Kind
    /// The gst-launch description with placeholders.
    public var pipeline: String
    /// An optional sound branch: more gst-launch chains linked to elements the pipeline
    /// names (`in. ! … ! out.`), left out when the input has no sound or it is not wanted.
    public var audio: String?
    /// Placeholder defaults in file order.
    public var defaults: [(key: String, value: String)]
    public var file: String

    public static func == (a: Preset, b: Preset) -> Bool {
        a.name == b.name && a.description == b.description && a.kind == b.kind && a.pipeline == b.pipeline && a.audio == b.audio
            && a.defaults.map(\.key) == b.defaults.map(\.key) && a.defaults.map(\.value) == b.defaults.map(\.value) && a.file == b.file
    }

    /// The names of `${…}` placeholders in order of first appearance.
    public static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[open.upperBound..<close])
            if !names.contains(name) { names.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The description with every placeholder replaced (overrides first, then defaults).
    /// A value that gst-launch would split is put in double quotes.
    public func description(setting overrides: [String: String] = [:]) throws -> String {
        try render(pipeline, setting: overrides)
    }

    /// The sound branch with every placeholder replaced; nil when the preset has none, or
    /// when a placeholder only it uses is empty (a camera without `audio-device`).
    public func audioDescription(setting overrides: [String: String] = [:]) throws -> String? {
        guard let audio else { return nil }
        let own = Set(Self.placeholders(in: audio)).subtracting(Self.placeholders(in: pipeline))
        let values = Dictionary(defaults.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }).merging(overrides) { _, new in new }
        if own.contains(where: { (values[$0] ?? "").isEmpty }) { return nil }
        return try render(audio, setting: overrides)
    }

    /// The exact command line: `gst-launch-1.0 …` with its sound branch, quoted for a POSIX shell.
    public func commandLine(setting overrides: [String: String] = [:]) throws -> String {
        let whole = [try description(setting: overrides), try audioDescription(setting: overrides)].compactMap { $0 }.joined(separator: " ")
        return (["gst-launch-1.0", "-e"] + Self.launchTokens(whole).map(Self.shellQuoted)).joined(separator: " ")
    }

    private func render(_ text: String, setting overrides: [String: String]) throws -> String {
        let known = Set(defaults.map(\.key))
        for key in overrides.keys.sorted() where !known.contains(key) {
            throw PresetError(file: file, line: nil,
                              message: "preset \(name) has no placeholder \"\(key)\" (it has: \(defaults.map(\.key).joined(separator: ", ")))")
        }
        var out = text
        for (key, value) in defaults {
            out = out.replacingAll("${\(key)}", with: Self.launchValue(overrides[key] ?? value))
        }
        return out
    }

    public static func launchValue(_ value: String) -> String {
        let plain = value.allSatisfy { $0.isLetter || $0.isNumber || "-_./:,=+@%".contains($0) }
        guard !plain || value.isEmpty else { return value }
        return "\"" + value.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }

    /// Splits a description at spaces outside double quotes.
    static func launchTokens(_ description: String) -> [String] {
        var tokens: [String] = [], current = "", quoted = false, escaped = false
        for ch in description {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                current.append(ch)
                escaped = true
            } else if ch == "\"" {
                current.append(ch)
                quoted.toggle()
            } else if ch.isWhitespace && !quoted {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    static func shellQuoted(_ token: String) -> String {
        let safe = token.allSatisfy { $0.isLetter || $0.isNumber || "-_./:,=+@%!".contains($0) }
        return safe ? token : "'" + token.replacingAll("'", with: "'\\''") + "'"
    }
}

/// Why a preset cannot be used: the file, the line where known, and what is wrong.
public struct PresetError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = "", rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
