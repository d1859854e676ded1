import ChatCastPresets
import XCTest

/// `chatcast serve --config FILE`: what a config file says, and every mistake refused with
/// the file and line.
final class ServeConfigTests: XCTestCase {
    func testSettingsRoomsAndMountsAreRead() throws {
        let config = try ServeConfig.parse("""
            # the server of the stage
            bind: 0.0.0.0
            rtsp-port: 9554
            publish-password: "s3cret: yes"
            rooms:
              lobby: {detect: true}
              stage:
                detect: yes
                output: stage-boxes
                model: /models/coco.torchscript
                set: {confidence: 0.4, bitrate: 1500}
              quiet: {detect: false, record: true}
            mounts:
              /clock: {preset: test, set: {pattern: smpte}}
              /door: {preset: camera, input: /dev/video2, detect: true}
            """, file: "serve.yaml")
        XCTAssertEqual(config.settings, ["bind": "0.0.0.0", "rtsp-port": "9554", "publish-password": "s3cret: yes"])
        XCTAssertEqual(config.detectedRooms, [
            .init(room: "lobby", output: "lobby-detected", model: nil, settings: [:]),
            .init(room: "stage", output: "stage-boxes", model: "/models/coco.torchscript",
                  settings: ["confidence": "0.4", "bitrate": "1500"]),
        ], "a room with detect: false runs no relay")
        XCTAssertEqual(config.recordedRooms, ["quiet"], "record: true rooms")
        XCTAssertEqual(config.mounts, [
            .init(path: "/clock", preset: "test", input: nil, detect: false, settings: ["pattern": "smpte"]),
            .init(path: "/door", preset: "camera", input: "/dev/video2", detect: true, settings: [:]),
        ])
        XCTAssertEqual(config.mounts.map(\.room), ["clock", "door"])
        let chat = try ServeConfig.parse("""
            server-name: irc.example.org
            operators:
              root: {password: "sha256$salt$00ff"}
              helper: {password: plain}
            """, file: "chat.yaml")
        XCTAssertEqual(chat.settings, ["server-name": "irc.example.org"])
        XCTAssertEqual(chat.operators, ["root": "sha256$salt$00ff", "helper": "plain"])
        XCTAssertEqual(try ServeConfig.parse("", file: "empty.yaml"), { var c = ServeConfig(); c.file = "empty.yaml"; return c }())
    }

    func testMistakesAreRefusedWithFileAndLine() {
        func error(_ yaml: String) -> String {
            do {
                _ = try ServeConfig.parse(yaml, file: "serve.yaml")
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(error("rtsp-port: 1\nrtps-port: 2\n"), "serve.yaml:2: unknown key \"rtps-port\" (known: bind, rtsp-port, "
                           + "irc-port, data-dir, irc-password, publish-user, publish-password, max-viewers, max-connections, "
                           + "rate-limit, tls-cert, tls-key, record-dir, record-segment-seconds, record-segment-megabytes, server-name, "
                           + "history-days, history-max-messages, rooms, mounts, operators)")
        XCTAssertEqual(error("operators:\n  root: {password: \"\"}\n"), "serve.yaml:2: operator root: empty password")
        XCTAssertEqual(error("operators:\n  root: {}\n"), "serve.yaml:2: operator root needs a password")
        XCTAssertEqual(error("operators:\n  root: {password: x, pasword: y}\n"),
                       "serve.yaml:2: operator root: unknown key \"pasword\" (known: password)")
        XCTAssertEqual(error("operators:\n  \"ro ot\": {password: x}\n"),
                       "serve.yaml:2: operator name \"ro ot\" must be letters, digits, - _ or .")
        XCTAssertEqual(error("operators: [root]\n"), "serve.yaml:1: \"operators\" maps operator names to {password: …}")
        XCTAssertEqual(error("rooms:\n  lobby: {detect: true, outptu: x}\n"),
                       "serve.yaml:2: room lobby: unknown key \"outptu\" (known: detect, output, model, set, record)")
        XCTAssertEqual(error("rooms:\n  lobby: {detect: maybe}\n"), "serve.yaml:2: \"detect\" must be true or false")
        XCTAssertEqual(error("rooms:\n  lobby: {detect: true, output: lobby}\n"),
                       "serve.yaml:2: room lobby: the detected stream needs a room of its own (output)")
        XCTAssertEqual(error("rooms:\n  \"my room\": {detect: true}\n"),
                       "serve.yaml:2: \"my room\" is not a room name (letters, digits, -, _ and .)")
        XCTAssertEqual(error("rooms:\n  - lobby\n"), "serve.yaml:2: \"rooms\" maps room names to settings")
        XCTAssertEqual(error("rooms:\n  lobby: true\n"), "serve.yaml:2: room lobby takes settings (detect, output, model, set, record)")
        XCTAssertEqual(error("rooms:\n  lobby: {detect: true, set: [1, 2]}\n"), "serve.yaml:2: \"set\" maps placeholders to values")
        XCTAssertEqual(error("bind: [a, b]\n"), "serve.yaml:1: \"bind\" must be a plain value")
        XCTAssertEqual(error("mounts:\n  clock: {preset: test}\n"),
                       "serve.yaml:2: mount \"clock\" must be /ROOM (letters, digits, -, _ and .)")
        XCTAssertEqual(error("mounts:\n  /clock: {preset: tset}\n"), "serve.yaml:2: mount /clock: preset must be test, camera or file")
        XCTAssertEqual(error("mounts:\n  /clip: {preset: file}\n"), "serve.yaml:2: mount /clip: preset file needs input: PATH")
        XCTAssertEqual(error("rooms:\n  a: {detect: true, output: clock}\nmounts:\n  /clock: {}\n"),
                       "serve.yaml: room clock is used by both rooms.a.output and mounts./clock")
        XCTAssertEqual(error("rooms:\n  a: {detect: true}\n  b: {detect: true, output: A-detected}\n"),
                       "serve.yaml: room A-detected is used by both rooms.a.output and rooms.b.output")
        XCTAssertEqual(error("rtsp-port: [\n"), "serve.yaml:2: not valid YAML: " + yamlMessage("rtsp-port: [\n"))
        XCTAssertEqual(error("- a\n"), "serve.yaml:1: expected settings as KEY: VALUE")
    }

    /// Detectors share the cores, one thread each at least, so their OpenMP teams never
    /// outnumber the cores.
    func testDetectorsShareTheCores() {
        XCTAssertEqual(ServeConfig.detectorThreads(cores: 2, detectors: 1), 2)
        XCTAssertEqual(ServeConfig.detectorThreads(cores: 2, detectors: 2), 1)
        XCTAssertEqual(ServeConfig.detectorThreads(cores: 2, detectors: 5), 1)
        XCTAssertEqual(ServeConfig.detectorThreads(cores: 16, detectors: 3), 5)
        XCTAssertEqual(ServeConfig.detectorThreads(cores: 4, detectors: 0), 4, "no detector: nothing to share")
    }

    private func yamlMessage(_ text: String) -> String {
        do { _ = try ServeConfig.parse(text, file: "x") } catch let error as PresetError {
            return error.message.replacingOccurrences(of: "not valid YAML: ", with: "")
        } catch {}
        return "?"
    }
}
