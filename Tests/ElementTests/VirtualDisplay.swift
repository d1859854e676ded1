import Foundation
import ProcessSupport
import XCTest

/// A virtual X display (Xvfb) for tests of windows. Xvfb picks a free display number itself
/// and writes it on stdout only once it accepts clients (`-displayfd`): a fixed or random
/// number could meet a stale socket or lock from another run, and a socket file appears
/// before the server is ready. Like `xvfb-run`'s, it resets when its last client leaves and
/// refuses connections meanwhile: the viewer has to cope with that.
final class VirtualDisplay {
    let name: String
    private let server: Background

    init(width: Int = 640, height: Int = 480) throws {
        let xvfb = Process()
        xvfb.executableURL = URL(fileURLWithPath: "/usr/bin/Xvfb")
        xvfb.arguments = ["-displayfd", "1", "-screen", "0", "\(width)x\(height)x24", "-nolisten", "tcp"]
        let server = try Background(xvfb, name: "xvfb")
        var number: Int?
        let deadline = Date().addingTimeInterval(30)
        while number == nil && server.process.isRunning && Date() < deadline {
            let said = server.stdout
            if said.hasSuffix("\n") { number = Int(said.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if number == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let number else {
            let why = server.stderr
            server.stop()
            throw SetupFailure("Xvfb did not start: \(why.suffix(300))")
        }
        self.name = ":\(number)"
        self.server = server
    }

    deinit { server.stop() }

    /// The whole screen as a PNG file, taken with ximagesrc.
    func screenshot(to path: String) throws -> LaunchResult {
        try gstLaunch(["ximagesrc", "display-name=\(name)", "num-buffers=1", "use-damage=false", "!",
                       "videoconvert", "!", "pngenc", "!", "filesink", "location=\(path)"], timeout: 30)
    }
}
