import Foundation
import XCTest

/// Real IRC software that no one here wrote, against `chatcast serve` on loopback.
final class RealClientsTests: XCTestCase {
    func testPythonIRCClientsRegisterJoinTalkReadTheTopicAndGetHistory() throws {
        let server = try ServeProcess(extra: ["--publish-password", "pub"])
        defer { server.stop() }
        let result = try runProgram("/usr/bin/python3", [Paths.interop + "/python_irc_clients.py", "127.0.0.1", String(server.port), "pub"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let heard = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(heard["welcome"] as? [String], ["cam", "viewer"])
        XCTAssertEqual(heard["topic"] as? String, "rtsp://127.0.0.1:8554/lobby", "the viewer reads the stream URL")
        XCTAssertEqual(heard["viewer"] as? [[String]], [["cam", "first, before the viewer came"]], "history on JOIN")
        XCTAssertEqual(heard["cam"] as? [[String]], [["viewer", "hello from python3-irc"]])
    }

    func testWeechatAndOurTerminalClientExchangeMessages() throws {
        let server = try ServeProcess()
        defer { server.stop() }
        let home = NSTemporaryDirectory() + "chatcast-weechat-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let weechat = try startWeechat(home: home, port: server.port, room: "#lobby",
                                       then: "/wait 3 /msg -server ours #lobby hello from weechat; /wait 9 /quit")
        defer { if weechat.isRunning { weechat.terminate() } }
        // Ours joins, waits for weechat's line, then answers.
        let deadline = Date().addingTimeInterval(20)
        var transcript = ""
        while Date() < deadline {
            let ours = try chat(server.address, nick: "ours", input: "")
            transcript = ours.stdout
            if transcript.contains("<wee> hello from weechat") { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(transcript.contains("<wee> hello from weechat"), "our client saw weechat: \(transcript)")
        let answer = try chat(server.address, nick: "ours", input: "hello weechat, from chatcast\n")
        XCTAssertEqual(answer.status, 0, answer.stderr)
        weechat.waitUntilExit()
        let log = (try? String(contentsOfFile: home + "/logs/irc.ours.#lobby.weechatlog", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("ours\thello weechat, from chatcast"), "weechat's log: \(log)")
    }

    func testTerminalClientPrintsTheRoomsStreamURLOnPlay() throws {
        let server = try ServeProcess(extra: ["--publish-password", "pub"])
        defer { server.stop() }
        // A publisher announces the URL and stays while the viewer asks.
        let publisher = Process()
        publisher.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        publisher.arguments = ["-c", """
            import socket, time
            s = socket.create_connection(("127.0.0.1", \(server.port)))
            s.sendall(b"PASS pub\\r\\nNICK cam\\r\\nUSER cam 0 * :cam\\r\\nJOIN #lobby\\r\\nTOPIC #lobby :rtsp://127.0.0.1:8554/lobby\\r\\n")
            time.sleep(6)
            """]
        try publisher.run()
        defer { publisher.terminate() }
        Thread.sleep(forTimeInterval: 1)
        let viewer = try chat(server.address, nick: "viewer", input: "/play\n/quit\n")
        XCTAssertEqual(viewer.status, 0, viewer.stderr)
        XCTAssertEqual(viewer.stdout.split(separator: "\n").last, "rtsp://127.0.0.1:8554/lobby")
        let empty = try chat(server.address, nick: "viewer2", room: "quiet", input: "/play\n")
        XCTAssertTrue(empty.stdout.contains("(no stream in #quiet)"), empty.stdout)
    }

    func testTLSWithASelfSignedCertificate() throws {
        let dir = NSTemporaryDirectory() + "chatcast-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try runProgram("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem",
                                                "-out", dir + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
                                                "-addext", "subjectAltName=IP:127.0.0.1"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let server = try ServeProcess(extra: ["--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"])
        defer { server.stop() }
        let url = "ircs://127.0.0.1:\(server.port)"
        let trusted = try chat(url, nick: "secure", input: "over TLS\n", extra: ["--tls-ca", dir + "/cert.pem"])
        XCTAssertEqual(trusted.status, 0, trusted.stderr)
        XCTAssertTrue(trusted.stdout.contains("<secure> over TLS"), trusted.stdout)
        let untrusted = try chat(url, nick: "naive", input: "x\n", extra: ["--wait", "2"])
        XCTAssertNotEqual(untrusted.status, 0)
        XCTAssertTrue(untrusted.stderr.contains("CERTIFICATE_VERIFY_FAILED"), untrusted.stderr)
        let plain = try chat(server.address, nick: "plain", input: "x\n", extra: ["--wait", "2"])
        XCTAssertNotEqual(plain.status, 0, "plain text to a TLS port does not register")
    }
}
