import Foundation
import ProcessSupport
import XCTest

/// `chatcast` run as a user runs it: from the build tree with nothing in its environment it
/// finds its plugins beside itself; what it cannot find or reach it names, within seconds.
final class LauncherFindingTests: XCTestCase {
    /// The launcher with GStreamer's variables as a fresh shell has them (none), or as given.
    private func bareChatcast(_ arguments: [String], environment: [String: String] = [:]) -> Process {
        let process = chatcastProcess(arguments)
        var env = process.environment ?? [:]
        env.removeValue(forKey: "GST_PLUGIN_PATH")
        env.removeValue(forKey: "GST_PLUGIN_SYSTEM_PATH_1_0")
        env["GST_REGISTRY"] = NSTemporaryDirectory() + "chatcast-bare-registry-\(UUID().uuidString).bin"
        env.merge(environment) { _, new in new }
        process.environment = env
        return process
    }

    func testRunFromTheBuildTreeItFindsItsPluginsBesideItself() throws {
        let server = try VideoServer()
        let publisher = try Background(bareChatcast([
            "publish", "--dir", Paths.presets, "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=320", "--set", "height=240", "--duration", "30"]), name: "bare-publish")
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let viewer = try runToEnd(bareChatcast(["play", server.url("lobby"), "--headless", "--duration", "3"]), timeout: 60)
        XCTAssertEqual(viewer.status, 0, viewer.stderr)
        XCTAssertFalse(viewer.stderr.contains("no element"), viewer.stderr)
    }

    func testMissingPluginsAreNamedWithWhereTheyWereSought() throws {
        let nowhere = NSTemporaryDirectory() + "chatcast-no-plugins-\(UUID().uuidString)"
        let viewer = try runToEnd(bareChatcast(["play", "rtsp://127.0.0.1:1/lobby", "--headless", "--duration", "1"],
                                               environment: ["GST_PLUGIN_PATH": nowhere]), timeout: 60)
        XCTAssertNotEqual(viewer.status, 0)
        XCTAssertTrue(viewer.stderr.contains("GStreamer has no element \"chatparse\": libgstchatsink.so was not found in \(nowhere)"),
                      viewer.stderr)
    }

    func testAChatServerThatCannotBeReachedFailsWithinSecondsNamingItAndTheCause() throws {
        let started = Date()
        let viewer = try runToEnd(chatcastProcess(["play", "--room", "lobby", "--server", "irc://127.0.0.1:1", "--headless"]), timeout: 60)
        XCTAssertNotEqual(viewer.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "fails within seconds: \(viewer.stderr)")
        XCTAssertTrue(viewer.stderr.contains("cannot reach the chat server irc://127.0.0.1:1"), viewer.stderr)
        XCTAssertTrue(viewer.stderr.lowercased().contains("refused"), "the cause: \(viewer.stderr)")
        // Told to wait, it keeps trying for as long as it was told.
        let waited = Date()
        let patient = try runToEnd(chatcastProcess(["play", "--room", "lobby", "--server", "irc://127.0.0.1:1", "--headless",
                                                    "--wait", "4"]), timeout: 60)
        XCTAssertNotEqual(patient.status, 0)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(waited), 3.5, patient.stderr)
    }

    /// `publish --preset NAME` takes any publish preset in the folder, not three built-in names.
    func testAnyPublishPresetInTheFolderIsPublished() throws {
        let folder = NSTemporaryDirectory() + "chatcast-presets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
        name: publish-bars
        description: Colour bars, published with the room's chat.
        kind: publish
        pipeline: >-
          videotestsrc is-live=true pattern=smpte ! video/x-raw,format=I420,width=160,height=120,framerate=30/1
          ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse config-interval=-1
          ! chatinject server=${server} room=${room} nick=${nick} ! rtspclientsink location=${url}
        defaults:
          server: irc://127.0.0.1:6667
          room: lobby
          nick: bars
          url: rtsp://127.0.0.1:8554/lobby
        """.write(toFile: folder + "/publish-bars.yaml", atomically: true, encoding: .utf8)
        let server = try VideoServer()
        let publisher = try Background(chatcastProcess(["publish", "--dir", folder, "--preset", "bars", "--server", server.irc,
                                                        "--room", "bars", "--to", server.url("bars"), "--duration", "20"]), name: "bars")
        defer { publisher.stop() }
        try server.waitLive("bars")
        let unknown = try runToEnd(chatcastProcess(["publish", "--dir", folder, "--preset", "nothing"]), timeout: 30)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no publish preset nothing (have: bars)"), unknown.stderr)
    }

    /// The publisher password reaches rtspclientsink as a property, never through the launch
    /// line that GStreamer's parser logs.
    func testThePublisherPasswordStaysOutOfTheLaunchLine() throws {
        let server = try VideoServer(extra: ["--publish-password", "hush-9f2c"])
        let publish = chatcastProcess(["publish", "--dir", Paths.presets, "--server", server.irc, "--to", server.url("lobby"),
                                       "--user", "publisher", "--password", "hush-9f2c", "--set", "width=160", "--set", "height=120",
                                       "--duration", "30"])
        publish.environment?["GST_DEBUG"] = "GST_PIPELINE:6"
        let publisher = try Background(publish, name: "publish-secret")
        defer { publisher.stop() }
        try server.waitLive("lobby")
        XCTAssertTrue(publisher.stderr.contains("rtspclientsink"), "the parser logged the line: \(publisher.stderr.suffix(500))")
        XCTAssertFalse(publisher.stderr.contains("hush-9f2c"), "the password is in the log")
    }
}
