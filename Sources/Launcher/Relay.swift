import ArgumentParser
import ChatCastPresets
import Foundation

/// `chatcast relay`: pulls a stream, decodes, detects, re-encodes, carries the chat that came
/// in the stream forward (and a room's live chat with --room), and publishes the result.
struct Relay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-publish a stream with detections added and its chat kept.")

    @Option(help: "rtsp:// URL to pull.")
    var from: String

    @Option(help: "rtsp:// URL to RECORD the result to.")
    var to: String

    @Option(help: "TorchScript model (default: the bundled ball detector).")
    var model: String?

    @Option(help: "libtorch threads of the detector (default: the preset's; 0 = all cores).")
    var threads: Int?

    @Option(help: "Also stamp in this room's live chat (with --server).")
    var room: String?

    @Option(help: "Chat server for --room, irc://HOST:PORT (its password, if any, from the environment's CHATCAST_IRC_PASSWORD).")
    var server = "irc://127.0.0.1:6667"

    @Option(help: "Nick of the relay in --room.")
    var nick = "relay"

    @Option(help: "Publisher user and password for the destination's RECORD.")
    var user: String?
    @Option(help: "Publisher password for the destination's RECORD (or the environment's CHATCAST_PUBLISH_PASSWORD, which other users cannot see).")
    var password: String?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(name: .customLong("set"), help: "Other preset values, KEY=VALUE (see `chatcast presets show relay-detect`).")
    var settings: [String] = []

    @OptionGroup var location: Presets.Location

    func validate() throws {
        for url in [from, to] where !(url.hasPrefix("rtsp://") || url.hasPrefix("rtsps://")) {
            throw ValidationError("\(url) is not an rtsp:// URL")
        }
    }

    func description() throws -> String {
        guard let preset = try location.load().first(where: { $0.name == "relay-detect" }) else {
            throw ValidationError("no preset relay-detect in the preset directory")
        }
        var values = try Presets.Show.parse(settings)
        values["from"] = from
        values["to"] = to
        var line = try preset.description(setting: values)
        if let model { line = LaunchEdits.setting("model", model, on: "swiftyolo", in: line) }
        if let threads { line = LaunchEdits.setting("threads", String(threads), on: "swiftyolo", in: line) }
        if let room {
            line = LaunchEdits.setting("server", server, on: "chatinject", in: line)
            line = LaunchEdits.setting("room", room, on: "chatinject", in: line)
            line = LaunchEdits.setting("nick", nick, on: "chatinject", in: line)
        }
        return [line, try preset.audioDescription(setting: values)].compactMap { $0 }.joined(separator: " ")
    }

    func run() throws {
        let pipeline = try PipelineRunner(description: try description())
        // Credentials as properties: a launch line shows in debug logs.
        if let user { pipeline.set("user-id", user, onEvery: "rtspclientsink") }
        if let secret = EnvironmentPassword.publisher.resolve(password) { pipeline.set("user-pw", secret, onEvery: "rtspclientsink") }
        if room != nil, let secret = EnvironmentPassword.irc.value { pipeline.set("password", secret, onEvery: "chatinject") }
        pipeline.end(after: duration)
        Terminal.say("relaying \(from) → \(to)")
        if case let .failed(message) = pipeline.run(onJSON: { _, _ in }) {
            Terminal.error(message)
            throw ExitCode.failure
        }
    }
}
