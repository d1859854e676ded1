/// Edits of a rendered gst-launch description that the launcher's flags make: leave out an
/// optional stage (`--detect` off drops swiftyolo) or set a property on one (`--model`).
/// They work on gst-launch tokens, so quoted values are never split.
public enum LaunchEdits {
    /// The description without the stage whose element is `factory` (with its properties and
    /// the `!` that links it in).
    public static func removing(_ factory: String, from description: String) -> String {
        var stages = split(description)
        stages.removeAll { $0.first == factory }
        return join(stages)
    }

    /// The description with `name=value` added to every stage whose element is `factory`.
    public static func setting(_ name: String, _ value: String, on factory: String, in description: String) -> String {
        join(split(description).map { $0.first == factory ? $0 + ["\(name)=\(Preset.launchValue(value))"] : $0 })
    }

    /// The element of the last stage replaced by `replacement` (a stage written out).
    public static func replacingLast(in description: String, with replacement: String) -> String {
        var stages = split(description)
        guard !stages.isEmpty else { return description }
        stages[stages.count - 1] = Preset.launchTokens(replacement)
        return join(stages)
    }

    /// The description cut after the first stage whose element is `factory`: what comes up
    /// to it and what follows it; nil when no stage is made by `factory`.
    public static func cut(after factory: String, in description: String) -> (head: String, tail: String)? {
        let stages = split(description)
        guard let at = stages.firstIndex(where: { $0.first == factory }) else { return nil }
        return (join(Array(stages[...at])), join(Array(stages[(at + 1)...])))
    }

    /// The stages before the first one made by `factory` replaced by `replacement`.
    public static func replacing(before factory: String, in description: String, with replacement: String) -> String {
        let stages = split(description)
        guard let at = stages.firstIndex(where: { $0.first == factory }) else { return description }
        return join([Preset.launchTokens(replacement)] + Array(stages[at...]))
    }

    /// The element of every stage, last stage first.
    public static func lastFactories(in description: String) -> [String] {
        split(description).reversed().compactMap(\.first)
    }

    private static func split(_ description: String) -> [[String]] {
        var stages: [[String]] = [[]]
        for token in Preset.launchTokens(description) {
            if token == "!" { stages.append([]) } else { stages[stages.count - 1].append(token) }
        }
        return stages
    }

    private static func join(_ stages: [[String]]) -> String {
        stages.map { $0.joined(separator: " ") }.joined(separator: " ! ")
    }
}
