import ArgumentParser
import ChatCastPresets
import ChatCastRTSP
import ChatIRC
import ChatIRCServer
import Foundation

/// `chatcast demo`: all of it on loopback in one process — the RTSP and chat servers, the
/// test ball published with detection and the room's chat, a few chat messages, and a viewer
/// that found the stream through the room's topic (a window where a display exists;
/// otherwise JSON lines on stdout plus a snapshot PNG). Exits 0 when the duration ends.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve, publish, chat and view on loopback, in one command.")

    @Option(help: "Seconds to run.")
    var duration = 20.0

    @Flag(help: "No window even where a display exists.")
    var headless = false

    @Option(help: "Where the headless viewer writes its snapshot PNG.")
    var snapshot = NSTemporaryDirectory() + "chatcast-demo.png"

    @OptionGroup var location: Presets.Location

    func run() throws {
        let started = Date()
        var window: WindowDisplay?
        if !headless {
            do { window = try WindowDisplay() } catch { Terminal.say("\(error): the viewer prints JSON lines instead of a window") }
        }
        let windowless = window == nil
        let dataDir = NSTemporaryDirectory() + "chatcast-demo-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }

        let chat = IRCServer(config: IRCServerConfig(), store: try SQLiteMessageStore(directory: dataDir))
        try chat.start(host: "127.0.0.1", port: 0)
        defer { try? chat.stop() }
        var settings = RTSPServer.Settings()
        settings.port = 0
        let video = try RTSPServer(settings: settings)
        video.onRoomLive = { room, url in chat.execute { $0.setTopic(room: room, to: url) } }
        video.onRoomEnded = { room in chat.execute { $0.setTopic(room: room, to: nil) } }
        video.onKeyFrameWanted = { room in chat.execute { $0.requestKeyFrame(room: room) } }
        try video.start()
        defer { video.stop() }
        let ircURL = "irc://127.0.0.1:\(chat.port)"
        Terminal.say("chat on \(ircURL), video on rtsp://127.0.0.1:\(video.port)/lobby")

        // The publisher: the test ball, detected, with #lobby's chat stamped in.
        let plan = PublishPlan(server: ircURL, detect: true, to: "rtsp://127.0.0.1:\(video.port)/lobby",
                               settings: ["width": "640", "height": "360", "bitrate": "1000"])
        let publisher = try PipelineRunner(description: try plan.description(presets: try location.load()))
        publisher.end(after: duration + 1)
        let published = DispatchSemaphore(value: 0)
        let publishing = Thread {
            _ = publisher.run { _, _ in }
            published.signal()
        }
        publishing.start()
        // The publisher's pipeline (libtorch inside) must be down before the process exits:
        // inference running into exit-time destructors crashes.
        defer {
            publisher.finish()
            if published.wait(timeout: .now() + 8) == .timedOut { Terminal.error("the publisher did not stop in 8 s") }
        }

        // Someone chatting in the room while the stream runs.
        let talker = IRCClient(options: .init(server: IRCServerAddress(ircURL)!, nick: "alice", rooms: ["lobby"])) { _ in }
        talker.start()
        defer { talker.stop() }
        let lines = ["hello from the demo", "the ball is a sports ball", "chat rides inside the video"]
        for (i, text) in lines.enumerated() {
            DispatchQueue.global().asyncAfter(deadline: .now() + 3 + Double(i) * 3) { talker.send(room: "lobby", text: text) }
        }

        // "Play Video": the viewer knows only the room; the chat server gives the URL.
        guard case let .success(url) = RoomTopic.streamURL(server: ircURL, room: "lobby", timeout: min(20, duration)) else {
            Terminal.error("the demo stream did not go live")
            throw ExitCode.failure
        }
        Terminal.say("viewer playing \(url)")
        let viewer = try PipelineRunner(description: Play.description(
            presets: try location.load(), url: url, latency: 200, headless: windowless, record: nil, snapshot: windowless ? snapshot : nil))
        viewer.end(after: max(1, duration - Date().timeIntervalSince(started)))
        let outcome = withExtendedLifetime(window) { viewer.run { _, _ in } }
        if case let .failed(message) = outcome {
            Terminal.error("viewer: \(message)")
            throw ExitCode.failure
        }
        if windowless { Terminal.say("snapshot with boxes and chat: \(snapshot)") }
    }
}
