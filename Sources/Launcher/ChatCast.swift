import ArgumentParser

@main
struct ChatCast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatcast",
        abstract: "Live video with chat and object detection.",
        subcommands: [Detect.self, Serve.self, Chat.self, Presets.self])
}
