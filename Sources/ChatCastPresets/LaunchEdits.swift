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
