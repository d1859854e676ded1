import Foundation
import ProcessSupport
import XCTest

/// `make install` and `make deb` (their scripts, run on the built tree): an install that runs
/// from a clean environment without the Swift toolchain's run paths, and a package holding it.
final class InstallTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-install-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func script(_ name: String, _ arguments: [String]) throws -> ProcessOutput {
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/bin/bash")
        run.arguments = [Paths.repo.appendingPathComponent("scripts/\(name)").path] + arguments
        run.currentDirectoryURL = Paths.repo
        return try runToEnd(run, timeout: 300)
    }

    private var built: [String] { [Paths.repo.appendingPathComponent(".build/release").path, Paths.plugins] }

    /// The installed `chatcast` with nothing but PATH and HOME in its environment.
    private func installed(_ prefix: String, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix + "/bin/chatcast")
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir + "/home"]
        return process
    }

    func testAnInstallRunsServePublishAndPlayFromACleanEnvironment() throws {
        let prefix = dir + "/prefix"
        let done = try script("install.sh", built + [prefix])
        XCTAssertEqual(done.status, 0, done.stderr)
        for file in ["bin/chatcast", "lib/x86_64-linux-gnu/gstreamer-1.0/libgstchatsink.so", "lib/x86_64-linux-gnu/gstreamer-1.0/libgstswiftyolo.so",
                     "lib/x86_64-linux-gnu/gstreamer-1.0/swiftyolo-default.torchscript", "share/chatcast/pipelines/publish-test.yaml",
                     "share/chatcast/web/viewer.html", "share/chatcast/web/sei.js",
                     "lib/chatcast/swift/libswiftCore.so", "lib/chatcast/swift/libdispatch.so", "lib/chatcast/swift/libBlocksRuntime.so"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + file), file)
        }
        for object in ["bin/chatcast", "lib/x86_64-linux-gnu/gstreamer-1.0/libgstchatsink.so", "lib/x86_64-linux-gnu/gstreamer-1.0/libgstswiftyolo.so"] {
            let ldd = Process()
            ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
            ldd.arguments = [prefix + "/" + object]
            let linked = try runToEnd(ldd, timeout: 30).stdout
            // ldd prints the run path as built: PREFIX/bin/../lib/chatcast/swift/…, PREFIX/lib/…/gstreamer-1.0/../../chatcast/swift/…
            let swiftCore = linked.split(separator: "\n").first { $0.contains("libswiftCore.so =>") } ?? ""
            XCTAssertTrue(swiftCore.contains(prefix) && swiftCore.contains("chatcast/swift/libswiftCore.so"), "\(object): \(linked)")
            XCTAssertFalse(linked.contains("/opt/swift") || linked.contains("not found"), "\(object): \(linked)")
        }

        let rtspPort = freePort(), ircPort = freePort(), httpPort = freePort()
        let serving = installed(prefix, ["serve", "--rtsp-port", String(rtspPort), "--irc-port", String(ircPort), "--http-port", String(httpPort)])
        serving.currentDirectoryURL = URL(fileURLWithPath: prefix)  // no ./web here: the installed files are used
        let serve = try Background(serving, name: "installed-serve")
        defer { serve.stop() }
        XCTAssertTrue(waitForPort(ircPort) && waitForPort(rtspPort) && waitForPort(httpPort), serve.stderr)
        let page = httpRequest("GET", "http://127.0.0.1:\(httpPort)/lobby")
        XCTAssertEqual(page.status, 200, serve.stderr)
        XCTAssertTrue(page.body.contains("/static/viewer.js"), "the installed viewer page: \(page.body.prefix(300))")
        let irc = "irc://127.0.0.1:\(ircPort)"
        let publisher = try Background(installed(prefix, ["publish", "--detect", "--server", irc, "--to", "rtsp://127.0.0.1:\(rtspPort)/lobby",
                                                          "--set", "width=320", "--set", "height=240", "--duration", "40"]),
                                       name: "installed-publish")
        defer { publisher.stop() }
        try eventually("the room goes live", timeout: 60) { serve.stderr.contains("#lobby is live") }
        let viewer = try runToEnd(installed(prefix, ["play", "--room", "lobby", "--server", irc, "--headless", "--duration", "3"]), timeout: 60)
        XCTAssertEqual(viewer.status, 0, viewer.stderr)
        XCTAssertTrue(viewer.stdout.contains(#""label":"ball""#), "the installed plugins detect and carry: \(viewer.stdout.prefix(400)) \(viewer.stderr)")
    }

    func testTheDebianPackageHoldsTheInstallUnderUsr() throws {
        let made = try script("make-deb.sh", built + ["0.0.1", dir + "/deb"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let package = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(package.hasSuffix("chatcast_0.0.1_amd64.deb"), package)
        let list = Process()
        list.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-deb")
        list.arguments = ["--contents", package]
        let files = try runToEnd(list, timeout: 60).stdout
        for file in ["./usr/bin/chatcast", "./usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstchatsink.so",
                     "./usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstswiftyolo.so", "./usr/share/chatcast/pipelines/publish-test.yaml",
                     "./usr/share/chatcast/web/viewer.html", "./usr/share/chatcast/web/sei-worker.js",
                     "./usr/lib/chatcast/swift/libswiftCore.so"] {
            XCTAssertTrue(files.contains(file), "\(file) in \(files)")
        }
        let info = Process()
        info.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-deb")
        info.arguments = ["--field", package, "Depends"]
        let depends = try runToEnd(info, timeout: 60).stdout
        XCTAssertTrue(depends.contains("libgstrtspserver-1.0-0") && depends.contains("libtorch1.13"), depends)
    }
}
