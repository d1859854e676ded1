/// libFuzzer entry for the YAML that ChatCast reads from files: a pipeline preset
/// (PresetLibrary.parse) and `serve --config` (ServeConfig.parse), both from the same text
/// (compiled into this module with Sources/ChatCastPresets, whose files need only Yams). The
/// files are read as UTF-8, so other bytes never reach the parsers.
///
/// Beyond "no crash": a refusal is a PresetError naming the file, with a line inside it; an
/// accepted preset renders without error, its command line splits in a POSIX shell into the
/// gst-launch tokens it was made from, and no value reaches gst-launch unquoted with a
/// character that would split it; an accepted config holds only what its rules allow.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPresets(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    // YAML's line breaks (LF, CR LF, a lone CR, NEL, LS, PS) are all Characters that are newlines.
    let lines = text.count(where: \.isNewline) + 2
    func checkRefusal(_ error: Error) {
        guard let error = error as? PresetError else { fatalError("not a PresetError: \(error) (input \(describe(text)))") }
        check(error.file == file, "refusal names \(error.file)")
        if let line = error.line { check((1...lines).contains(line), "line \(line) of a \(lines - 1)-line file: \(error)") }
    }

    do {
        checkPreset(try PresetLibrary.parse(text, file: file), text: text)
    } catch { checkRefusal(error) }
    do {
        checkConfig(try ServeConfig.parse(text, file: file))
    } catch { checkRefusal(error) }

    // The quoting on its own, line by line (values come from --set and config files too).
    for line in text.split(separator: "\n") {
        checkLaunchValue(String(line))
        checkShellLine(["x", String(line)])
    }
    let numbers = Array(text.utf8.prefix(2))
    if numbers.count == 2 {
        let threads = ServeConfig.detectorThreads(cores: Int(Int8(bitPattern: numbers[0])), detectors: Int(Int8(bitPattern: numbers[1])))
        check(threads >= 1, "\(threads) detector threads")
    }
    return 0
}

let file = "fuzz.yaml"

func checkPreset(_ preset: Preset, text: String) {
    check(!preset.name.isEmpty && !preset.pipeline.isEmpty && preset.file == file, "accepted \(preset)")
    let keys = preset.defaults.map(\.key)
    let used = Preset.placeholders(in: preset.pipeline + " " + (preset.audio ?? ""))
    check(Set(keys) == Set(used), "defaults \(keys) for placeholders \(used)")
    do {
        let whole = [try preset.description(), try preset.audioDescription()].compactMap { $0 }.joined(separator: " ")
        checkTokens(whole)
        checkShellLine(["gst-launch-1.0", "-e"] + Preset.launchTokens(whole), line: try preset.commandLine())
        for (key, value) in preset.defaults {
            checkLaunchValue(value)
            _ = try preset.description(setting: [key: value + " x"])
        }
        editLaunch(whole)
    } catch {
        fatalError("accepted preset \(preset.name) does not render: \(error) (input \(describe(text)))")
    }
    do {
        _ = try preset.description(setting: ["\u{1}none": "x"])
        fatalError("an unknown placeholder was set")
    } catch {
        check(error is PresetError, "not a PresetError: \(error)")
    }
}

/// Preset.launchTokens (which LaunchEdits and the printed line work on) splits as gst-launch
/// reads a description, byte by byte: at ASCII white space outside double quotes, a backslash
/// taking the next character.
func checkTokens(_ description: String) {
    var tokens: [String] = [], token = String.UnicodeScalarView(), quoted = false, escaped = false
    for s in description.unicodeScalars {
        if escaped {
            escaped = false
        } else if s == "\\" {
            escaped = true
        } else if s == "\"" {
            quoted.toggle()
        } else if s.isASCII && s.properties.isWhitespace && !quoted {
            if !token.isEmpty { tokens.append(String(token)) }
            token = String.UnicodeScalarView()
            continue
        }
        token.append(s)
    }
    if !token.isEmpty { tokens.append(String(token)) }
    check(Preset.launchTokens(description) == tokens,
          "\(describe(description)) splits into \(Preset.launchTokens(description)), gst-launch reads \(tokens)")
}

/// LaunchEdits on a rendered description: what it removes is gone, a cut exists where the
/// factory does.
func editLaunch(_ description: String) {
    let factories = LaunchEdits.lastFactories(in: description)
    guard let factory = factories.last else { return }
    check(!LaunchEdits.lastFactories(in: LaunchEdits.removing(factory, from: description)).contains(factory),
          "removing \(factory) left it in \(describe(description))")
    check(LaunchEdits.cut(after: factory, in: description) != nil, "no cut after \(factory) in \(describe(description))")
    _ = LaunchEdits.setting("model", "a b\"c", on: factory, in: description)
    _ = LaunchEdits.replacing(before: factory, in: description, with: "filesrc location=x")
    _ = LaunchEdits.replacingLast(in: description, with: "fakesink")
}

func checkConfig(_ config: ServeConfig) {
    check(Set(config.settings.keys).isSubset(of: ServeConfig.settingKeys), "settings \(config.settings.keys)")
    var claimed: Set<String> = []
    func claim(_ room: String) {
        check(RoomNames.isValid(room), "room \(room.debugDescription) accepted")
        check(claimed.insert(room.lowercased()).inserted, "room \(room) claimed twice")
    }
    for room in config.detectedRooms {
        claim(room.room)
        claim(room.output)
    }
    for room in config.recordedRooms { check(RoomNames.isValid(room), "recorded room \(room.debugDescription) accepted") }
    for mount in config.mounts {
        check(mount.path.hasPrefix("/"), "mount \(mount.path.debugDescription)")
        claim(mount.room)
        check(["test", "camera", "file"].contains(mount.preset), "mount preset \(mount.preset)")
        check(mount.preset != "file" || mount.input != nil, "file mount without input")
    }
    for (name, password) in config.operators {
        check(!name.isEmpty && name.utf8.count <= 30 && name.unicodeScalars.allSatisfy { $0.isASCII && plainScalar($0) },
              "operator \(name.debugDescription)")
        check(!password.isEmpty, "operator \(name) without a password")
    }
}

/// ASCII characters that mean nothing special to gst-launch inside a value.
func plainScalar(_ s: Unicode.Scalar) -> Bool {
    !s.isASCII || (s.properties.isAlphabetic || ("0"..."9").contains(s)) || "-_./:,=+@%".unicodeScalars.contains(s)
}

/// A value reaches gst-launch either unquoted, with no ASCII character that would end or
/// split it, or as one double-quoted string whose quotes and backslashes are escaped.
func checkLaunchValue(_ value: String) {
    let written = Preset.launchValue(value)
    if written == value && value.unicodeScalars.first != "\"" {
        check(value.unicodeScalars.allSatisfy(plainScalar), "\(value.debugDescription) reaches gst-launch unquoted")
        return
    }
    check(written.unicodeScalars.first == "\"" && written.unicodeScalars.last == "\"" && written.unicodeScalars.count >= 2,
          "\(value.debugDescription) written as \(written.debugDescription)")
    var inner = Array(written.unicodeScalars.dropFirst().dropLast())[...]
    var read = String.UnicodeScalarView()
    while let s = inner.popFirst() {
        if s == "\\" {
            guard let next = inner.popFirst() else { fatalError("\(written.debugDescription) ends in a lone backslash") }
            read.append(next)
        } else {
            check(s != "\"", "\(written.debugDescription) has an unescaped quote")
            read.append(s)
        }
    }
    check(String(read) == value, "\(written.debugDescription) reads back as \(String(read).debugDescription), not \(value.debugDescription)")
}

/// What a POSIX shell makes of the command line `Preset.shellQuoted` writes for `tokens`
/// (or of `line`): the same tokens, and nothing unquoted that the shell would act on.
func checkShellLine(_ tokens: [String], line: String? = nil) {
    let line = line ?? tokens.map(Preset.shellQuoted).joined(separator: " ")
    var words: [String] = [], word = String.UnicodeScalarView(), inWord = false, quoted = false, escaped = false
    for s in line.unicodeScalars {
        if escaped {
            word.append(s)
            escaped = false
        } else if quoted {
            if s == "'" { quoted = false } else { word.append(s) }
        } else if s == "'" {
            quoted = true
            inWord = true
        } else if s == " " {
            if inWord { words.append(String(word)) }
            word = String.UnicodeScalarView()
            inWord = false
        } else if s == "\\" {
            escaped = true
            inWord = true
        } else {
            check(!s.isASCII || s.properties.isAlphabetic || ("0"..."9").contains(s) || "-_./:,=+@%!".unicodeScalars.contains(s),
                  "\(String(s).debugDescription) unquoted in \(describe(line))")
            word.append(s)
            inWord = true
        }
    }
    check(!quoted && !escaped, "unterminated quote in \(describe(line))")
    if inWord { words.append(String(word)) }
    check(words == tokens, "\(describe(line)) splits into \(words), not \(tokens)")
}

/// Text for a failure message, short enough for a log.
func describe(_ text: String) -> String {
    let shown = String(text.unicodeScalars.prefix(300)).debugDescription
    return text.unicodeScalars.count > 300 ? "\(shown)… (\(text.utf8.count) bytes)" : shown
}
