import ArgumentParser

@main
struct ChatCast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatcast",
        abstract: "Live video with chat and object detection.",
        subcommands: [Serve.self, Publish.self, Play.self, Relay.self, Demo.self, Chat.self, Presets.self, Detect.self])

    static func main() {
        PluginSearch.exportPluginPath(executable: CommandLine.arguments[0])
        main(nil)
    }
}
