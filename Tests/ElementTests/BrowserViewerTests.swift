import Foundation
import ProcessSupport
import XCTest

/// The browser viewer as people use it: Debian's Chromium, headless, driven over the DevTools
/// protocol (Tests/fixtures/browser.py), opens a room's page served by `chatcast serve`,
/// plays it over WebRTC (WHEP) with the boxes from the stream's own SEI, and chats with a
/// python3-irc client in the room over IRC-over-WebSocket.
final class BrowserViewerTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-browser-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// Pixels of the box's colour on the screenshot along the first drawn box, and white (ball)
    /// pixels inside it. Untracked boxes are green (#00ff00); a tracked one has its track's
    /// hue, the one yolooverlay gives that id: (id × 0.618034 + 0.12) mod 1, full saturation.
    private func boxPixels(_ png: String, box: [String: Double], trackId: Int?) throws -> (border: Int, perimeter: Int, white: Int) {
        let hue = trackId.map { (Double($0) * 0.618_033_988_75 + 0.12).truncatingRemainder(dividingBy: 1) } ?? 1.0 / 3
        let count = python(["-c", """
            import sys, colorsys; from PIL import Image
            im = Image.open(sys.argv[1]).convert("RGB")
            x, y, w, h = (float(v) for v in sys.argv[2:6])
            want = [255 * c for c in colorsys.hsv_to_rgb(float(sys.argv[6]), 1, 1)]
            def stroke(px, py):
                # the 3-pixel stroke is centred on the edge: look a pixel either side
                for dx in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        rgb = im.getpixel((min(max(int(px) + dx, 0), im.width - 1), min(max(int(py) + dy, 0), im.height - 1)))
                        if all(abs(c - t) < 60 for c, t in zip(rgb, want)):
                            return True
                return False
            edge = [(x + w * i / 20, y) for i in range(21)] + [(x + w * i / 20, y + h) for i in range(21)] + \\
                   [(x, y + h * i / 20) for i in range(21)] + [(x + w, y + h * i / 20) for i in range(21)]
            white = sum(1 for px in range(int(x) + 2, int(x + w) - 2) for py in range(int(y) + 2, int(y + h) - 2)
                        if min(im.getpixel((px, py))) > 200)
            print(sum(1 for p in edge if stroke(*p)), len(edge), white)
            """, png, String(box["x"] ?? 0), String(box["y"] ?? 0), String(box["w"] ?? 0), String(box["h"] ?? 0), String(hue)])
        let out = try runToEnd(count, timeout: 30)
        let numbers = out.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard numbers.count == 3 else { throw SetupFailure("PIL could not read the screenshot: \(out.stderr)") }
        return (numbers[0], numbers[1], numbers[2])
    }

    func testThePageOfADetectedRoomPlaysDrawsTheBallAndChatsBothWays() throws {
        // Two viewers at most: the publisher's RTSP session and one browser.
        let server = try VideoServer(extra: ["--max-viewers", "2"])
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--detect", "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=640", "--set", "height=360", "--set", "tracker=bytetrack", "--duration", "90"]), name: "publish")
        defer { publisher.stop() }
        try server.waitLive("lobby")

        // The WHEP endpoint's refusals, before anyone watches.
        XCTAssertEqual(httpRequest("POST", server.web + "/lobby/whep", body: "not an offer", contentType: "application/sdp").status, 400)
        XCTAssertEqual(httpRequest("POST", server.web + "/nobody/whep", body: "v=0\r\n", contentType: "application/sdp").status, 404)
        let rooms = try json(httpRequest("GET", server.web + "/api/rooms").body)
        XCTAssertEqual((rooms["rooms"] as? [[String: Any]])?.first?["name"] as? String, "lobby", "the room list names the live room")

        let before = httpRequest("GET", server.web + "/metrics").body
        let ircFan = try Background(python([Paths.interop + "/irc_meets_browser.py", "127.0.0.1", String(server.ircPort), "#lobby",
                                            "ircfan", "hello from python3-irc", "hello from the page", "60"]), name: "irc-fan")
        defer { ircFan.stop() }
        let shot = dir + "/page.png"
        let browser = try Background(python([Paths.repo.appendingPathComponent("Tests/fixtures/browser.py").path, "--timeout", "90",
                                             "watch", "--url", server.web + "/lobby", "--seconds", "40", "--min-seconds", "8",
                                             "--nick", "webfan", "--say", "hello from the page", "--say-after", "3",
                                             "--wait-label", "ball", "--wait-chat", "hello from python3-irc", "--screenshot", shot]),
                                     name: "browser")
        defer { browser.stop() }

        // While the page watches: the metrics count it, the publisher's frames move on, and a
        // second browser is refused (the cap counts RTSP and WebRTC viewers together).
        var during = ""
        try eventually("the metrics count the WebRTC viewer", timeout: 40) {
            during = httpRequest("GET", server.web + "/metrics").body
            return metric(during, "chatcast_viewers{protocol=\"webrtc\"}") == 1
        }
        XCTAssertEqual(httpRequest("POST", server.web + "/lobby/whep", body: "v=0\r\n", contentType: "application/sdp").status, 503)
        Thread.sleep(forTimeInterval: 1.5)
        let later = httpRequest("GET", server.web + "/metrics").body
        let frames = { (text: String) in metric(text, "chatcast_room_frames_total{room=\"lobby\"}") ?? 0 }
        XCTAssertGreaterThan(frames(later), frames(during), "frames keep arriving")
        XCTAssertGreaterThan(frames(during), frames(before))
        XCTAssertGreaterThan(metric(later, "chatcast_room_frame_rate{room=\"lobby\"}") ?? 0, 0, "the publisher's frame rate (its value depends on the machine)")
        XCTAssertGreaterThan(metric(later, "chatcast_sent_bytes_total") ?? 0, metric(before, "chatcast_sent_bytes_total") ?? 0)
        XCTAssertGreaterThan(metric(later, "chatcast_sei_envelopes_total") ?? 0, 0, "the detections ride in SEI")
        XCTAssertGreaterThanOrEqual(metric(later, "chatcast_chat_clients") ?? 0, 2, "the publisher and the IRC client (the page may still be joining)")

        XCTAssertTrue(browser.finish(within: 90), "the driver ended: \(browser.stderr)")
        let page = try json(browser.stdout)
        let times = try XCTUnwrap(page["video_times"] as? [Double], browser.stdout)
        XCTAssertGreaterThan((times.last ?? 0) - (times.first { $0 > 0 } ?? 0), 1, "the <video> advances: \(times)")
        let labels = try XCTUnwrap(page["dom_labels"] as? [String])
        XCTAssertTrue(labels.contains { $0.range(of: #"^#[1-9][0-9]* ball [0-9]+%$"#, options: .regularExpression) != nil },
                      "the labels are listed as text with the track id: \(labels)")
        let chat = try XCTUnwrap(page["chat"] as? [String])
        XCTAssertTrue(chat.contains("ircfan: hello from python3-irc"), "the IRC client's line is on the page: \(chat)")
        XCTAssertEqual(page["errors"] as? [String] ?? [], [], "no script errors")

        XCTAssertTrue(ircFan.finish(within: 30), "the page's line reached the IRC client")
        let heard = try json(ircFan.stdout)
        XCTAssertTrue((heard["lines"] as? [[String]] ?? []).contains(["webfan", "hello from the page"]), "\(heard)")

        // The page's session ends with the page (DELETE as it is left), so the cap has room again.
        try eventually("the WHEP session ends with the page", timeout: 10) {
            metric(httpRequest("GET", server.web + "/metrics").body, "chatcast_webrtc_sessions") == 0
        }

        // The screenshot: a green box drawn around the white ball, where the page says it drew it.
        let boxes = try XCTUnwrap(page["boxes"] as? [[String: Any]], browser.stdout)
        let screen = try XCTUnwrap(boxes.first?["screen"] as? [String: Double], "a box was drawn: \(boxes)")
        let trackId = try XCTUnwrap(boxes.first?["track_id"] as? Int, "the box is tracked: \(boxes)")
        let pixels = try boxPixels(shot, box: screen, trackId: trackId)
        XCTAssertGreaterThan(Double(pixels.border), Double(pixels.perimeter) * 0.8, "the box is drawn on the picture: \(pixels)")
        XCTAssertGreaterThan(pixels.white, 20, "around the ball: \(pixels)")
    }
}

/// What else reaches the page: a publisher such as ffmpeg with libx264's defaults (B-frames)
/// and AAC sound (sent on as Opus), and the page's SEI reader on real access units.
final class BrowserInputsTests: XCTestCase {
    func testAnFFmpegPublisherWithBFramesAndSoundPlaysInThePage() throws {
        let server = try VideoServer()
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60", "-c:v", "libx264", "-c:a", "aac",
                            "-f", "rtsp", server.url("ffroom")]
        let publisher = try Background(ffmpeg, name: "ffmpeg")
        defer { publisher.stop() }
        try server.waitLive("ffroom")
        let page = try runToEnd(python([Paths.repo.appendingPathComponent("Tests/fixtures/browser.py").path, "--timeout", "60",
                                        "watch", "--url", server.web + "/ffroom", "--seconds", "10", "--vanish"]), timeout: 90)
        XCTAssertEqual(page.status, 0, page.stderr)
        let seen = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page.stdout.utf8)) as? [String: Any], page.stdout)
        let times = try XCTUnwrap(seen["video_times"] as? [Double])
        XCTAssertGreaterThan((times.last ?? 0) - (times.first { $0 > 0 } ?? 0), 2, "the picture advances: \(times)")
        XCTAssertEqual(seen["video_size"] as? [Int], [640, 360])
        XCTAssertEqual(Set(seen["tracks"] as? [String] ?? []), ["video:live", "audio:live"], "the sound arrives as Opus beside the picture")
        // The browser went without a word (no DELETE, no BYE): its silence ends the session.
        try eventually("a vanished browser's session ends", timeout: 60) {
            metric(httpRequest("GET", server.web + "/metrics").body, "chatcast_webrtc_sessions") == 0
        }
    }

    /// A browser that cannot read encoded frames opens a data channel; the server sends each
    /// frame's envelope on it, stamped with the frame's RTP timestamp (the page is told to
    /// behave so with `?sei=datachannel`).
    func testWithoutEncodedTransformsTheBoxesComeOnTheDataChannelInStep() throws {
        let server = try VideoServer()
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--detect", "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=640", "--set", "height=360", "--duration", "60"]), name: "publish")
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let page = try runToEnd(python([Paths.repo.appendingPathComponent("Tests/fixtures/browser.py").path, "--timeout", "60",
                                        "watch", "--url", server.web + "/lobby?sei=datachannel", "--seconds", "30",
                                        "--min-seconds", "5", "--wait-label", "ball"]), timeout: 90)
        XCTAssertEqual(page.status, 0, page.stderr)
        let seen = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page.stdout.utf8)) as? [String: Any], page.stdout)
        let state = try XCTUnwrap(seen["state"] as? [String: Any])
        XCTAssertEqual(state["seiMode"] as? String, "data-channel")
        XCTAssertTrue((seen["dom_labels"] as? [String] ?? []).contains { $0.hasPrefix("ball ") }, "\(seen["dom_labels"] ?? "")")
        let synced = state["syncedFrames"] as? Int ?? 0, unsynced = state["unsyncedFrames"] as? Int ?? 0
        XCTAssertGreaterThan(synced, 3 * unsynced, "frames drawn with their own envelope (found by RTP timestamp): \(synced) of \(synced + unsynced)")
    }

    /// A browser viewer's ICE agent does not look for a router to open ports in (libnice's UPnP
    /// default): a server has none, and the search is SSDP multicast to the LAN from a thread
    /// of its own per viewer. libnice's debug log says when it tried.
    func testABrowserViewerDoesNotSearchTheNetworkForARouter() throws {
        let server = try VideoServer(environment: ["NICE_DEBUG": "all", "G_MESSAGES_DEBUG": "libnice"])
        let chat = NSTemporaryDirectory() + "chatcast-quiet-\(UUID().uuidString).txt"
        _ = FileManager.default.createFile(atPath: chat, contents: Data("dave: hello\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: chat) }
        let publisher = try publishTestBall(to: server.url("lobby"), chatFile: chat, seconds: 60)
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let offer = try String(contentsOfFile: Paths.repo.appendingPathComponent("Tests/fixtures/web/chromium-offer.sdp").path, encoding: .utf8)
        let answered = httpRequest("POST", server.web + "/lobby/whep", body: offer, contentType: "application/sdp")
        XCTAssertEqual(answered.status, 201, answered.body)
        XCTAssertTrue(answered.body.contains("a=candidate"), "candidates gathered: \(answered.body)")
        Thread.sleep(forTimeInterval: 2)  // past libnice's UPnP timeout
        let log = server.background.stdout + server.background.stderr  // GLib writes debug to stdout
        XCTAssertTrue(log.contains("libnice-DEBUG"), "libnice's debug log is on")
        XCTAssertFalse(log.contains("UPnP"), log.split(separator: "\n").filter { $0.contains("UPnP") }.joined(separator: "\n"))
    }

    /// WHEP sessions come and go without leaving anything in the server: an offer Chromium
    /// made (Tests/fixtures/web/chromium-offer.sdp) answered and deleted 12 times; the server's
    /// threads (webrtcbin starts two a session) and sessions are back where they were.
    func testEndedSessionsLeaveNoThreadsBehind() throws {
        let server = try VideoServer()
        let chat = NSTemporaryDirectory() + "chatcast-quiet-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: chat, contents: Data("dave: hello\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: chat) }
        let publisher = try publishTestBall(to: server.url("lobby"), chatFile: chat, seconds: 60)
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let offer = try String(contentsOfFile: Paths.repo.appendingPathComponent("Tests/fixtures/web/chromium-offer.sdp").path, encoding: .utf8)
        let pid = server.background.process.processIdentifier
        let threads = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0 }
        func cycle() throws {
            let answered = httpRequest("POST", server.web + "/lobby/whep", body: offer, contentType: "application/sdp")
            XCTAssertEqual(answered.status, 201, answered.body)
            let location = try XCTUnwrap(answered.headers.first { $0.key.lowercased() == "location" }?.value, "\(answered.headers)")
            XCTAssertTrue(answered.body.contains("m=video") && answered.body.contains("a=candidate"), "a complete answer: \(answered.body)")
            XCTAssertEqual(httpRequest("DELETE", server.web + location).status, 200)
        }
        try cycle()  // the first session starts what stays for good (thread pools)
        Thread.sleep(forTimeInterval: 1)
        let before = threads()
        for _ in 0..<12 { try cycle() }
        try eventually("the sessions' threads are gone", timeout: 20) { threads() <= before + 2 }
        XCTAssertEqual(metric(httpRequest("GET", server.web + "/metrics").body, "chatcast_webrtc_sessions"), 0)
    }

    func testTheSEIReaderReadsRealAccessUnitsAndSurvivesBrokenOnes() throws {
        let run = try runToEnd(python([Paths.repo.appendingPathComponent("Tests/fixtures/browser.py").path, "selftest"]), timeout: 90)
        XCTAssertEqual(run.status, 0, "the page's SEI reader in Chromium: \(run.stdout.suffix(2000)) \(run.stderr.suffix(1000))")
    }
}
