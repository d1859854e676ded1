import ArgumentParser
import CGStreamer
import ChatCastPresets
import Foundation

/// `chatcast play`: the original program's "Play Video". Given a room, asks the chat server
/// for the stream's URL (the room's topic) and plays it: a window with boxes and chat, or
/// with `--headless` the JSON lines of every chat message and detection on stdout.
struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Play a room's stream with its detections and chat.")

    @Argument(help: "rtsp:// URL to play (or give --room).")
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

    @Option(help: "Seconds to wait for the room to go live.")
    var wait = 30.0

    @Option(help: "Receive buffer of the viewer (jitter buffer), in milliseconds.")
    var latency = 200

    func validate() throws {
        if url == nil && room == nil { throw ValidationError("give an rtsp:// URL or --room") }
        if let url, !(url.hasPrefix("rtsp://") || url.hasPrefix("rtsps://")) { throw ValidationError("\(url) is not an rtsp:// URL") }
    }

    /// The viewer's pipeline: the play presets' parts, teed for what was asked.
    static func description(url: String, latency: Int, headless: Bool, record: String?, snapshot: String?) -> String {
        let q = Preset.launchValue
        let picture = "queue ! chatparse ! avdec_h264 output-corrupt=false ! videoconvert ! yolooverlay ! chatoverlay ! videoconvert"
        let png = snapshot.map {
            "videorate drop-only=true ! video/x-raw,framerate=1/1 ! pngenc ! multifilesink max-files=1 location=\(q($0))"
        }
        var branches: [String] = []
        if headless {
            branches.append("queue ! chatparse post-messages=false ! chatsink")
            if let png { branches.append("\(picture) ! \(png)") }
        } else {
            branches.append("\(picture) ! tee name=view ! queue ! autovideosink" + (png.map { " view. ! queue ! \($0)" } ?? ""))
        }
        if let record { branches.append("queue ! matroskamux ! filesink location=\(q(record))") }
        return "rtspsrc location=\(q(url)) latency=\(latency) ! rtph264depay ! h264parse config-interval=-1 ! tee name=t"
            + branches.map { " t. ! " + $0 }.joined()
    }

    /// Whether a window can be opened (X11 or Wayland).
    static var hasDisplay: Bool {
        let env = ProcessInfo.processInfo.environment
        return !(env["DISPLAY"] ?? "").isEmpty || !(env["WAYLAND_DISPLAY"] ?? "").isEmpty
    }

    /// DirectFB's sink (plugins-bad, rank marginal) crashes the process when it cannot open a
    /// framebuffer of its own, and autovideosink tries it whenever no X11, Wayland or GL sink
    /// outranks it: it is never what a window viewer wants.
    static func passOverDirectFB() {
        gst_init(nil, nil)
        guard let feature = gst_registry_lookup_feature(gst_registry_get(), "dfbvideosink") else { return }
        gst_plugin_feature_set_rank(feature, guint(GST_RANK_NONE.rawValue))
        gst_object_unref(UnsafeMutableRawPointer(feature))
    }

    func run() throws {
        var target = url
        if target == nil, let room {
            Terminal.say("asking \(server) for #\(room)'s stream")
            target = RoomTopic.streamURL(server: server, room: room, timeout: wait)
            guard target != nil else {
                Terminal.error("#\(room) has no live stream on \(server) (no rtsp:// topic within \(Int(wait)) s)")
                throw ExitCode.failure
            }
        }
        Terminal.say("playing \(target!)")
        var windowless = headless
        if !headless && !Self.hasDisplay {
            Terminal.say("no display (DISPLAY and WAYLAND_DISPLAY are unset): printing JSON lines instead of a window")
            windowless = true
        }
        if !windowless { Self.passOverDirectFB() }
        let pipeline = try PipelineRunner(description: Self.description(url: target!, latency: latency, headless: windowless,
                                                                        record: record, snapshot: snapshot))
        pipeline.end(after: duration)
        let outcome = pipeline.run { _, _ in }
        if let snapshot { Terminal.say("snapshot: \(snapshot)") }
        if case let .failed(message) = outcome {
            Terminal.error(message)
            throw ExitCode.failure
        }
    }
}
