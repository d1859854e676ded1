import ArgumentParser
import ChatCastPresets
import Foundation

/// `chatcast publish`: the original program's "Stream Video to Server". A source (the test
/// ball, a camera, a file) → optional detection → H.264 with the room's chat stamped in →
/// RTSP RECORD to a server, or (`--host-rtsp`) served by its own RTSP server.
struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish a source with chat (and detections) to a room.")

    @Option(help: "Source preset: any publish preset by name, NAME for pipelines/publish-NAME.yaml (test, camera, file, or one of your own).")
    var preset = "test"

    @Option(help: "The preset's input: a file (its ${input}) or a V4L2 device (its ${device}).")
    var input: String?

    @Option(help: "Room whose chat is stamped into the video.")
    var room = "lobby"

    @Option(help: "Chat server, irc://HOST:PORT.")
    var server = "irc://127.0.0.1:6667"

    @Option(help: "Nick of the publisher in the room.")
    var nick = "publisher"

    @Flag(help: "Detect objects (swiftyolo) before encoding.")
    var detect = false

    @Option(help: "TorchScript model for --detect (default: the bundled ball detector).")
    var model: String?

    @Option(help: "RTSP URL to RECORD to (default: rtsp://127.0.0.1:8554/ROOM).")
    var to: String?

    @Option(name: .customLong("host-rtsp"),
            help: "Serve the stream from an RTSP server of our own on this port instead, announced as the room's topic.")
    var hostRTSP: Int?

    @Option(name: .customLong("host-bind"), help: "Address the --host-rtsp server listens on.")
    var hostBind = "0.0.0.0"

    @Option(name: .customLong("announce-host"),
            help: "Host in the URL --host-rtsp announces (default: this machine's address toward the chat server).")
    var announceHost: String?

    @Option(help: "Publisher user for the server's RECORD.")
    var user: String?

    @Option(help: "Publisher password: for the server's RECORD, and (IRC PASS) to set the room's topic with --host-rtsp (or the environment's CHATCAST_PUBLISH_PASSWORD, which other users cannot see).")
    var password: String?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(name: .customLong("set"), help: "Other preset values, KEY=VALUE (see `chatcast presets show publish-NAME`).")
    var settings: [String] = []

    @OptionGroup var location: Presets.Location

    func validate() throws {
        if preset == "file" && input == nil { throw ValidationError("--preset file needs --input PATH") }
        if model != nil && !detect { throw ValidationError("--model goes with --detect") }
        if hostRTSP != nil && to != nil { throw ValidationError("--to and --host-rtsp exclude each other") }
        if let hostRTSP, !(0...65535).contains(hostRTSP) { throw ValidationError("--host-rtsp takes a port, 0...65535") }
    }

    /// The gst-launch description: the preset with this command's values and edits.
    func description() throws -> String {
        try PublishPlan(preset: preset, input: input, room: room, server: server, nick: nick, detect: detect, model: model,
                        to: to, settings: try Presets.Show.parse(settings))
            .description(presets: try location.load())
    }

    func run() throws {
        let line = try description()
        if let hostRTSP {
            try HostedStream(launch: line, room: room, port: hostRTSP, bind: hostBind, chatServer: server, nick: nick,
                             password: EnvironmentPassword.publisher.resolve(password), announceHost: announceHost, duration: duration).run()
            return
        }
        Terminal.say("publishing to \(to ?? "rtsp://127.0.0.1:8554/\(room)") with the chat of #\(room) on \(server)")
        let pipeline = try PipelineRunner(description: line)
        if let user { pipeline.set("user-id", user, onEvery: "rtspclientsink") }
        if let secret = EnvironmentPassword.publisher.resolve(password) { pipeline.set("user-pw", secret, onEvery: "rtspclientsink") }
        pipeline.end(after: duration)
        if case let .failed(message) = pipeline.run(onJSON: { _, _ in }) {
            Terminal.error(message)
            throw ExitCode.failure
        }
    }
}

/// What `chatcast publish` (and the demo) turn into a pipeline description.
struct PublishPlan {
    var preset = "test"
    var input: String?
    var room = "lobby"
    var server = "irc://127.0.0.1:6667"
    var nick = "publisher"
    var detect = false
    var model: String?
    var to: String?
    var settings: [String: String] = [:]

    var url: String { to ?? "rtsp://127.0.0.1:8554/\(room)" }

    func description(presets: [Preset]) throws -> String {
        let publishing = presets.filter { $0.kind == .publish }
        guard let chosen = publishing.first(where: { $0.name == "publish-\(preset)" }) ?? publishing.first(where: { $0.name == preset }) else {
            throw ValidationError("no publish preset \(preset) (have: \(publishing.map { $0.name.replacingOccurrences(of: "publish-", with: "") }.joined(separator: ", ")))")
        }
        let placeholders = Set(Preset.placeholders(in: chosen.pipeline))
        var values = settings
        for (key, value) in [("room", room), ("server", server), ("nick", nick), ("url", url)] where placeholders.contains(key) {
            values[key] = value
        }
        if let input {
            guard let key = ["input", "device"].first(where: placeholders.contains) else {
                throw ValidationError("preset \(chosen.name) takes no --input (it has neither ${input} nor ${device})")
            }
            values[key] = input
        }
        var line = try chosen.description(setting: values)
        if !detect {
            line = LaunchEdits.removing("swiftyolo", from: line)
        } else if let model {
            line = LaunchEdits.setting("model", model, on: "swiftyolo", in: line)
        }
        return line
    }
}
