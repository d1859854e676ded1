import Foundation
import XCTest

/// Channel moderation between real IRC software: python3-irc as operator and member, and
/// weechat as the member a python3-irc operator voices, silences, bans and kicks.
final class ModerationClientsTests: XCTestCase {
    func testPythonIRCOperatorAndMemberSeeVoiceModerationBanAndKick() throws {
        let server = try ServeProcess()
        defer { server.stop() }
        let result = try runProgram("/usr/bin/python3", [Paths.interop + "/python_irc_moderation.py", "127.0.0.1", String(server.port)])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let seen = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [[String]]])
        let member = try XCTUnwrap(seen["member"])
        XCTAssertEqual(member, [
            ["join", "member"],
            ["mode", "mod", "+v member"],
            ["mode", "mod", "+m"],
            ["mode", "mod", "-v member"],
            ["404", "#mod"],
            ["mode", "mod", "+b member!*@*"],
            ["kick", "mod", "member", "bye"],
            ["474", "#mod"],
        ], "\(seen)")
        let mod = try XCTUnwrap(seen["mod"])
        XCTAssertTrue(mod.contains(["privmsg", "member", "voiced, I speak"]), "\(mod)")
        XCTAssertFalse(mod.contains(["privmsg", "member", "silenced?"]), "+m without voice: not delivered")
        XCTAssertTrue(mod.contains(["kick", "mod", "member", "bye"]))
    }

    func testWeechatSeesWhatAPythonIRCOperatorDoesToIt() throws {
        let server = try ServeProcess()
        defer { server.stop() }
        let home = NSTemporaryDirectory() + "chatcast-weechat-mod-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let operatorScript = Process()
        operatorScript.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        operatorScript.arguments = [Paths.interop + "/python_irc_moderation.py", "127.0.0.1", String(server.port), "wee"]
        let output = Pipe()
        operatorScript.standardOutput = output
        operatorScript.standardError = FileHandle.nullDevice
        try operatorScript.run()
        defer { if operatorScript.isRunning { operatorScript.terminate() } }
        Thread.sleep(forTimeInterval: 1.5)  // mod is first in the room: its operator
        let weechat = try startWeechat(home: home, port: server.port, room: "#mod", then: "/wait 12 /quit")
        defer { if weechat.isRunning { weechat.terminate() } }
        operatorScript.waitUntilExit()
        weechat.waitUntilExit()
        let seen = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(operatorScript.terminationStatus, 0, seen)
        XCTAssertTrue(seen.contains(#"["join", "wee"]"#), seen)
        let log = (try? String(contentsOfFile: home + "/logs/irc.ours.#mod.weechatlog", encoding: .utf8)) ?? ""
        for expected in ["[+v wee] by mod", "[+m] by mod", "[-v wee] by mod", "[+b wee!*@*] by mod", "mod has kicked wee (bye)"] {
            XCTAssertTrue(log.contains(expected), "weechat's log lacks \(expected): \(log)")
        }
    }
}
