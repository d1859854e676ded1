import ArgumentParser
import CGStreamer
import Foundation

/// `chatcast detect`: runs swiftyolo on a source and prints the detections as JSON lines.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect objects in a test source (or any gst-launch source) and print JSON lines.")

    @Option(help: "gst-launch description of the source, producing raw video.")
    var source = "videotestsrc pattern=ball is-live=false ! video/x-raw,width=640,height=480,framerate=30/1"

    @Option(help: "TorchScript model (default: the bundled ball detector).")
    var model: String?

    @Option(help: "Frames to process (0 = until the source ends).")
    var numBuffers = 150

    @Option(help: "Lowest confidence kept.")
    var confThreshold = 0.25

    var description: String {
        var detector = "swiftyolo name=detector post-messages=true conf-threshold=\(confThreshold)"
        if let model { detector += " model=\"\(model)\"" }
        // identity's eos-after turns the N-th buffer into EOS, so N+1 lets N through.
        let limit = numBuffers > 0 ? " ! identity eos-after=\(numBuffers + 1)" : ""
        return "\(source)\(limit) ! \(detector) ! fakesink sync=false"
    }

    func run() throws {
        let pipeline = try PipelineRunner(description: description)
        let status = pipeline.run { name, json in
            if name == "swiftyolo" { print(json) }
        }
        if case let .failed(message) = status {
            FileHandle.standardError.write("chatcast: \(message)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
