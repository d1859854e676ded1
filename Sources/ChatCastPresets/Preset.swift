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
        guard !plain(value, also: "-_./:,=+@%") || value.isEmpty else { return value }
        return "\"" + value.escapingScalars(["\\": "\\\\", "\"": "\\\""]) + "\""
    }

    /// Letters, digits and `also`, checked character by character and, since gst-launch and
    /// shells read bytes, scalar by scalar: a space or a quote that a combining mark or a
    /// prepended sign makes part of a letter ("\u{0D4E} ") is still a space or a quote.
    static func plain(_ text: String, also: String) -> Bool {
        text.allSatisfy { $0.isLetter || $0.isNumber || also.contains($0) }
            && text.unicodeScalars.allSatisfy { !$0.isASCII || $0.properties.isAlphabetic || ("0"..."9").contains($0) || also.unicodeScalars.contains($0) }
    }

    /// Splits a description at spaces outside double quotes, as gst-launch reads it: byte by
    /// byte, so a quote or a space is one even where a combining mark makes it part of a larger
    /// character, and only ASCII white space separates.
    static func launchTokens(_ description: String) -> [String] {
        var tokens: [String] = [], current = String.UnicodeScalarView(), quoted = false, escaped = false
        for scalar in description.unicodeScalars {
            if escaped {
                current.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                current.append(scalar)
                escaped = true
            } else if scalar == "\"" {
                current.append(scalar)
                quoted.toggle()
            } else if scalar.isASCII && scalar.properties.isWhitespace && !quoted {
                if !current.isEmpty { tokens.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }

    static func shellQuoted(_ token: String) -> String {
        plain(token, also: "-_./:,=+@%!") ? token : "'" + token.escapingScalars(["'": "'\\''"]) + "'"
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
    /// Each scalar of `replacements` replaced: a quote is escaped even where a combining mark
    /// makes it part of a larger character, which `range(of:)` does not find.
    func escapingScalars(_ replacements: [Unicode.Scalar: String]) -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if let replacement = replacements[scalar] { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }

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
