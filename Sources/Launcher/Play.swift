import ArgumentParser
import ChatCastPresets
import Foundation

/// `chatcast play`: the original program's "Play Video". Given a room, asks the chat server
/// for the stream's URL (the room's topic) and plays it: a window with boxes and chat, or
/// with `--headless` the JSON lines of every chat message and detection on stdout.
struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Play a room's stream with its detections and chat.")

    @Argument(help: "rtsp:// URL or a recording (Matroska, MP4, MPEG-TS file) to play (or give --room).")
    var url: String?

    @Option(help: "Room whose stream to play; its URL comes from the chat server (the room's topic).")
    var room: String?

    @Option(help: "Chat server asked for the room's URL, irc://HOST:PORT.")
    var server = "irc://127.0.0.1:6667"

    @Flag(help: "No window: print the chat and detections as JSON lines on stdout.")
    var headless = false

    @Option(help: "Also record the stream to this Matroska file (chat and detections stay inside as SEI).")
    var record: String?

    @Option(help: "Write the picture with boxes and chat to this PNG (the latest frame, updated every second).")
    var snapshot: String?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Seconds to wait for the room to go live, retrying a chat server that cannot be reached (without it: 30 s for the room, and an unreachable server fails at once).")
    var wait: Double?

    @Option(help: "Receive buffer of the viewer (jitter buffer), in milliseconds.")
    var latency = 200

    @OptionGroup var location: Presets.Location

    func validate() throws {
        if url == nil && room == nil { throw ValidationError("give an rtsp:// URL or --room") }
        if let url, !Self.isStream(url), !FileManager.default.isReadableFile(atPath: url) {
            throw ValidationError("\(url) is neither an rtsp:// URL nor a readable file")
        }
    }

    static func isStream(_ url: String) -> Bool { url.hasPrefix("rtsp://") || url.hasPrefix("rtsps://") }

    /// The viewer's pipeline, built from the play presets: the source (up to the first
    /// capsfilter) of the first one asked for, or a file read by whatever demuxer fits
    /// (parsebin); then each preset's remaining stages as a branch of a tee.
    static func description(presets: [Preset], url: String, latency: Int, headless: Bool, record: String?,
                            snapshot: String?) throws -> String {
        var wanted = [(headless ? "play-headless" : "play", [String: String]())]
        if let snapshot { wanted.append(("play-snapshot", ["snapshot": snapshot])) }
        if let record { wanted.append(("record", ["output": record])) }
        var source: String?
        var sound: String?
        var branches: [String] = []
        for (name, own) in wanted {
            guard let preset = presets.first(where: { $0.name == name && $0.kind == .play }) else {
                throw ValidationError("no play preset \(name) (have: \(presets.filter { $0.kind == .play }.map(\.name).joined(separator: ", ")))")
            }
            let keys = Set(preset.defaults.map(\.key))
            let values = own.merging(["url": url, "latency": String(latency)]) { mine, _ in mine }.filter { keys.contains($0.key) }
            guard let parts = LaunchEdits.cut(after: "capsfilter", in: try preset.description(setting: values)) else {
                throw ValidationError("play preset \(name) needs a capsfilter after its source (the stages after it are its branch)")
            }
            if source == nil {
                source = parts.head
                sound = try preset.audioDescription(setting: values)
            }
            branches.append(parts.tail)
        }
        var head = source!
        if !isStream(url) {
            head = LaunchEdits.replacing(before: "parsebin", in: head, with: "filesrc location=\(Preset.launchValue(url))")
            sound = nil  // it names the network source
        }
        return "\(head) ! tee name=t" + branches.map { " t. ! queue ! " + $0 }.joined() + (sound.map { " " + $0 } ?? "")
    }

    func run() throws {
        var target = url
        if target == nil, let room {
            Terminal.say("asking \(server) for #\(room)'s stream")
            switch RoomTopic.streamURL(server: server, room: room, timeout: wait ?? 30, keepTrying: wait != nil) {
            case let .success(url): target = url
            case let .failure(failure):
                Terminal.error("\(failure)")
                throw ExitCode.failure
            }
        }
        Terminal.say("playing \(target!)")
        var window: WindowDisplay?
        if !headless {
            do { window = try WindowDisplay() } catch {
                Terminal.say("\(error): printing JSON lines instead of a window")
            }
        }
        let windowless = window == nil
        let pipeline = try PipelineRunner(description: Self.description(presets: try location.load(), url: target!, latency: latency,
                                                                        headless: windowless, record: record, snapshot: snapshot))
        pipeline.end(after: duration)
        let outcome = withExtendedLifetime(window) { pipeline.run { _, _ in } }
        if let snapshot { Terminal.say("snapshot: \(snapshot)") }
        if case let .failed(message) = outcome {
            Terminal.error(message)
            throw ExitCode.failure
        }
    }
}
