import Foundation
import ProcessSupport
import XCTest

/// Our client and chatinject against ngircd (Debian's), started by the test: chat can move
/// to an existing IRC network.
final class NgircdTests: XCTestCase {
    var ngircd: Process!
    var port = 0
    var dir = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ngircd") else {
            throw SetupFailure("ngircd is not installed (scripts/install-deps.sh installs it)")
        }
        dir = NSTemporaryDirectory() + "chatcast-ngircd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = freePort()
        try """
            [Global]
            Name = irc.test.local
            Info = ChatCast interop test
            Listen = 127.0.0.1
            Ports = \(port)
            [Limits]
            MaxConnectionsIP = 100
            [Options]
            PAM = no
            Ident = no
            DNS = no
            """.write(toFile: dir + "/ngircd.conf", atomically: true, encoding: .utf8)
        ngircd = Process()
        ngircd.executableURL = URL(fileURLWithPath: "/usr/sbin/ngircd")
        ngircd.arguments = ["-n", "-f", dir + "/ngircd.conf"]
        ngircd.standardOutput = FileHandle.nullDevice
        ngircd.standardError = FileHandle.nullDevice
        try ngircd.run()
        XCTAssertTrue(waitForPort(port), "ngircd did not start")
    }

    override func tearDown() {
        ngircd?.terminate()
        ngircd?.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func names(_ channel: String) throws -> String {
        try runProgram("/usr/bin/python3", ["-c", """
            import socket
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"NICK probe\\r\\nUSER probe 0 * :p\\r\\nNAMES \(channel)\\r\\nQUIT\\r\\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            print(data.decode(errors="replace"))
            """], timeout: 10).stdout
    }

    func testOurClientAndChatInjectCarryAnNgircdRoomIntoTheStream() throws {
        let clip = dir + "/clip.mkv"
        let publisher = Process()
        publisher.executableURL = URL(fileURLWithPath: "/usr/bin/gst-launch-1.0")
        // -e: SIGINT ends the recording with EOS, so the file is complete.
        publisher.arguments = ["-q", "-e", "videotestsrc", "is-live=true", "num-buffers=1800", "!",
                               "video/x-raw,format=I420,width=160,height=120,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                               "key-int-max=30", "!", "h264parse", "!", "chatinject", "server=irc://127.0.0.1:\(port)",
                               "room=lobby", "nick=cam", "!", "matroskamux", "!", "filesink", "location=\(clip)"]
        publisher.environment = ProcessInfo.processInfo.environment.merging(
            ["GST_PLUGIN_PATH": Paths.plugins, "GST_REGISTRY": NSTemporaryDirectory() + "chatcast-interop-registry.bin"]) { $1 }
        try publisher.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, try !names("#lobby").contains("cam") { Thread.sleep(forTimeInterval: 0.2) }
        let said = try chat("irc://127.0.0.1:\(port)", nick: "alice", input: "hello over ngircd\n")
        XCTAssertEqual(said.status, 0, said.stderr)
        XCTAssertTrue(said.stdout.contains("<alice> hello over ngircd"), "our client's own line: \(said.stdout)")
        Thread.sleep(forTimeInterval: 1.5)
        publisher.interrupt()
        publisher.waitUntilExit()
        XCTAssertEqual(publisher.terminationStatus, 0)
        let read = try runProgram("/usr/bin/gst-launch-1.0", ["-q", "filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse",
                                                       "!", "chatparse", "!", "chatsink"],
                           environment: ["GST_PLUGIN_PATH": Paths.plugins])
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertTrue(read.stdout.contains(#""nick":"alice","text":"hello over ngircd""#), read.stdout)
    }
}
