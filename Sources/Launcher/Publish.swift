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

    @Option(name: .customLong("audio-device"), help: "Sound input for the camera preset (an ALSA device such as hw:1, see `arecord -L`); without it the camera publishes no sound.")
    var audioDevice: String?

    @Flag(name: .customLong("no-audio"), help: "Leave the input's sound out (a file's sound is published by default).")
    var noAudio = false

    @Option(name: .customLong("set"), help: "Other preset values, KEY=VALUE (see `chatcast presets show publish-NAME`).")
    var settings: [String] = []

    @OptionGroup var location: Presets.Location

    func validate() throws {
        if preset == "file" && input == nil { throw ValidationError("--preset file needs --input PATH") }
        if model != nil && !detect { throw ValidationError("--model goes with --detect") }
        if hostRTSP != nil && to != nil { throw ValidationError("--to and --host-rtsp exclude each other") }
        if let hostRTSP, !(0...65535).contains(hostRTSP) { throw ValidationError("--host-rtsp takes a port, 0...65535") }
    }

    func plan() throws -> PublishPlan {
        PublishPlan(preset: preset, input: input, room: room, server: server, nick: nick, detect: detect, model: model,
                        to: to, settings: try Presets.Show.parse(settings), sound: !noAudio, audioDevice: audioDevice)
    }

    func run() throws {
        let plan = try plan()
        if let hostRTSP {
            let mount = try plan.mountDescription(presets: try location.load(), videoPayloader: "rtph264pay name=pay0 pt=96 config-interval=-1")
            try HostedStream(mount: mount, room: room, port: hostRTSP, bind: hostBind, chatServer: server, nick: nick,
                             password: EnvironmentPassword.publisher.resolve(password), announceHost: announceHost, duration: duration).run()
            return
        }
        Terminal.say("publishing to \(to ?? "rtsp://127.0.0.1:8554/\(room)") with the chat of #\(room) on \(server)")
        let pipeline = try PipelineRunner(description: try plan.description(presets: try location.load()))
        if let user { pipeline.set("user-id", user, onEvery: "rtspclientsink") }
        if let secret = EnvironmentPassword.publisher.resolve(password) { pipeline.set("user-pw", secret, onEvery: "rtspclientsink") }
        pipeline.end(after: duration)
        if case let .failed(message) = pipeline.run(onJSON: { _, _ in }) {
            Terminal.error(message)
            throw ExitCode.failure
        }
    }
}

/// What `chatcast publish` (and the demo, and `serve`'s mounts) turn into a pipeline description.
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
    /// The detector's torch threads, set on swiftyolo whatever the preset says (serve's share).
    var threads: Int?
    /// The preset's sound branch where the input has sound (false: `--no-audio`).
    var sound = true
    /// The camera's microphone, the preset's `${audio-device}`.
    var audioDevice: String?

    var url: String { to ?? "rtsp://127.0.0.1:8554/\(room)" }

    /// The picture's chain, ending in the preset's sink, and the sound branch if it is used.
    struct Parts {
        var video: String
        var audio: String?
        var whole: String { [video, audio].compactMap { $0 }.joined(separator: " ") }
    }

    func description(presets: [Preset]) throws -> String { try parts(presets: presets).whole }

    /// The same pipeline ending in payloaders for an RTSP server's mount (pay0 the picture,
    /// pay1 the sound) instead of rtspclientsink.
    func mountDescription(presets: [Preset], videoPayloader: String) throws -> String {
        let parts = try parts(presets: presets)
        let video = LaunchEdits.replacingLast(in: parts.video, with: videoPayloader)
        guard let audio = parts.audio else { return video }
        guard let payloader = LaunchEdits.lastFactories(in: audio).lazy.compactMap({ Self.audioPayloaders[$0] }).first else {
            throw ValidationError("preset \(preset): no RTP payloader for its sound encoder (know: \(Self.audioPayloaders.keys.sorted().joined(separator: ", ")))")
        }
        return video + " " + LaunchEdits.replacingLast(in: audio, with: "\(payloader) name=pay1")
    }

    /// Sound encoders a preset may end its sound branch with, and their payloaders.
    static let audioPayloaders = ["opusenc": "rtpopuspay pt=97", "avenc_aac": "rtpmp4gpay pt=97", "alawenc": "rtppcmapay",
                                  "mulawenc": "rtppcmupay"]

    func parts(presets: [Preset]) throws -> Parts {
        let publishing = presets.filter { $0.kind == .publish }
        guard let chosen = publishing.first(where: { $0.name == "publish-\(preset)" }) ?? publishing.first(where: { $0.name == preset }) else {
            throw ValidationError("no publish preset \(preset) (have: \(publishing.map { $0.name.replacingOccurrences(of: "publish-", with: "") }.joined(separator: ", ")))")
        }
        let placeholders = Set(Preset.placeholders(in: chosen.pipeline + " " + (chosen.audio ?? "")))
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
        if let audioDevice {
            guard placeholders.contains("audio-device") else {
                throw ValidationError("preset \(chosen.name) takes no --audio-device (it has no ${audio-device})")
            }
            values["audio-device"] = audioDevice
        }
        var video = try chosen.description(setting: values)
        if !detect {
            video = LaunchEdits.removing("swiftyolo", from: video)
        } else {
            if let model { video = LaunchEdits.setting("model", model, on: "swiftyolo", in: video) }
            if let threads { video = LaunchEdits.setting("threads", String(threads), on: "swiftyolo", in: video) }
        }
        var audio = sound ? try chosen.audioDescription(setting: values) : nil
        // A file's sound branch only where the file has sound.
        if audio != nil, Preset.placeholders(in: chosen.pipeline).contains("input"),
           let file = values["input"] ?? chosen.defaults.first(where: { $0.key == "input" })?.value {
            do {
                if try !InputSound.hasAudio(file: file) { audio = nil }
            } catch { throw ValidationError("\(error)") }
        }
        return Parts(video: video, audio: audio)
    }
}
