import Foundation
import XCTest

final class DurabilityAndLoadTests: XCTestCase {
    func testKillNineRightAfterAnEchoLosesNoMessage() throws {
        let dir = NSTemporaryDirectory() + "chatcast-kill9-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ServeProcess(dataDir: dir)
        let said = try chat(first.address, nick: "alice", input: (1...5).map { "line \($0)\n" }.joined())
        XCTAssertEqual(said.stdout.split(separator: "\n").filter { $0.contains("<alice> line") }.count, 5, "all echoed")
        first.kill9()
        let second = try ServeProcess(dataDir: dir)
        defer { second.stop() }
        let late = try chat(second.address, nick: "bob", input: "")
        XCTAssertEqual(late.stdout.split(separator: "\n").compactMap { $0.split(separator: "> ").last.map(String.init) },
                       (1...5).map { "line \($0)" })
    }

    func testThousandConnectCyclesAndJunkLeaveTheServerUpAtItsBaselineMemory() throws {
        let server = try ServeProcess()
        defer { server.stop() }
        let warmup = try runProgram("/usr/bin/python3", [Paths.interop + "/irc_load.py", "cycles", "127.0.0.1", String(server.port), "100"])
        XCTAssertEqual(warmup.status, 0, warmup.stderr)
        // The baseline once start-up has settled: the RTSP half's GStreamer setup keeps
        // growing for about a second after the ports open (a fresh registry: ~5 MB).
        Thread.sleep(forTimeInterval: 2.5)
        let baseline = server.residentKiB
        let load = try runProgram("/usr/bin/python3", [Paths.interop + "/irc_load.py", "cycles", "127.0.0.1", String(server.port), "1000"])
        XCTAssertEqual(load.status, 0, load.stderr)
        Thread.sleep(forTimeInterval: 0.5)
        let after = server.residentKiB
        XCTAssertLessThan(after - baseline, 8 * 1024, "resident memory \(baseline) KiB → \(after) KiB after 1,000 cycles")
        let alive = try chat(server.address, nick: "still", input: "the server is up\n")
        XCTAssertTrue(alive.stdout.contains("<still> the server is up"), alive.stdout + alive.stderr)
    }

    func testAClientThatNeverReadsIsDroppedWhileEveryoneElseGetsEverything() throws {
        let server = try ServeProcess(extra: ["--rate-limit", "1000/1"])
        defer { server.stop() }
        let result = try runProgram("/usr/bin/python3", [Paths.interop + "/irc_load.py", "slowreader", "127.0.0.1", String(server.port)])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["received"] as? Int, report["expected"] as? Int,
                       "the reading client got every message: dropped \(report["reader_dropped"] ?? "?"), ends \(report["reader_tail"] ?? "?")")
        XCTAssertEqual(report["senders_complete"] as? Int, 10)
        XCTAssertEqual(report["slow_in_room"] as? Bool, false, "the client that stopped reading was dropped")
        XCTAssertEqual(report["quit_seen"] as? Bool, true)
    }
}
