import CGStreamer
import CGstCheck
import CGstGlue
import Foundation
import GstSwift
import ProcessSupport
import XCTest

/// A synthetic clip from Tests/fixtures/crossing_balls.py: raw RGB frames and where each
/// ball truly is on each frame.
struct BallClip {
    let rgb: String
    let width: Int, height: Int
    /// frames[f][ball] = (cx, cy)
    let frames: [[(x: Double, y: Double)]]

    static func make(_ name: String, frames: Int = 90) throws -> BallClip {
        let dir = NSTemporaryDirectory() + "chatcast-clip-\(getpid())-\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let rgb = dir + "/clip.rgb", truth = dir + "/truth.json"
        let run = try runToEnd(python([Paths.repo.appendingPathComponent("Tests/fixtures/crossing_balls.py").path,
                                               name, rgb, truth, "--frames", "\(frames)"]), timeout: 60)
        guard run.status == 0 else { throw SetupFailure("crossing_balls.py: \(run.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: truth))) as! [String: Any]
        let centres = (json["frames"] as! [[[Double]]]).map { $0.map { (x: $0[0], y: $0[1]) } }
        return BallClip(rgb: rgb, width: json["width"] as! Int, height: json["height"] as! Int, frames: centres)
    }

    /// gst-launch arguments that play the clip as 30 fps raw video.
    var source: [String] {
        ["filesrc", "location=\(rgb)", "blocksize=\(width * height * 3)", "!", "rawvideoparse", "width=\(width)",
         "height=\(height)", "format=rgb", "framerate=30/1", "!", "videoconvert", "!", "video/x-raw,format=NV12"]
    }

    func remove() { try? FileManager.default.removeItem(atPath: (rgb as NSString).deletingLastPathComponent) }
}

/// How well tracks followed the balls: per ball, the share of frames with a box centred
/// within `radius` px, and how often the track following it changed. A ball keeps the
/// track it had while that track's box stays within `radius` (the CLEAR-MOT rule), so two
/// balls passing through each other do not count as a switch by themselves.
struct TrackingScore: CustomStringConvertible {
    var covered: [Double]
    var switches: [Int]
    var ids: [[Int]]

    init(lines: [[String: Any]], clip: BallClip, radius: Double = 25) {
        var byFrame: [Int: [(x: Double, y: Double, id: Int?)]] = [:]
        for line in lines {
            guard let pts = line["pts"] as? Int else { continue }
            byFrame[Int((Double(pts) / 33_333_333.3).rounded())] = (line["objects"] as? [[String: Any]] ?? []).compactMap {
                guard let x = $0["x"] as? Int, let y = $0["y"] as? Int, let w = $0["w"] as? Int, let h = $0["h"] as? Int
                else { return nil }
                return (Double(x) + Double(w) / 2, Double(y) + Double(h) / 2, $0["track_id"] as? Int)
            }
        }
        let balls = clip.frames.first?.count ?? 0
        covered = Array(repeating: 0, count: balls)
        switches = Array(repeating: 0, count: balls)
        ids = Array(repeating: [], count: balls)
        for (f, truth) in clip.frames.enumerated() {
            let boxes = byFrame[f] ?? []
            func distance(_ b: Int, _ k: Int) -> Double { hypot(boxes[k].x - truth[b].x, boxes[k].y - truth[b].y) }
            var claimed = Set<Int>(), following = [Int?](repeating: nil, count: balls)
            for b in 0..<balls {
                if boxes.indices.contains(where: { distance(b, $0) <= radius }) { covered[b] += 1 / Double(clip.frames.count) }
                if let last = ids[b].last,
                   let k = boxes.indices.first(where: { boxes[$0].id == last && distance(b, $0) <= radius }) {
                    claimed.insert(k)
                    following[b] = k
                }
            }
            for b in 0..<balls where following[b] == nil {
                let k = boxes.indices.filter { !claimed.contains($0) && distance(b, $0) <= radius }.min { distance(b, $0) < distance(b, $1) }
                guard let k, let id = boxes[k].id else { continue }
                claimed.insert(k)
                if let last = ids[b].last, last != id { switches[b] += 1 }
                ids[b].append(id)
            }
            for b in 0..<balls { if let k = following[b], let id = boxes[k].id { ids[b].append(id) } }
        }
    }

    var description: String {
        "covered \(covered.map { String(format: "%.2f", $0) }), switches \(switches), ids \(ids.map { Array(Set($0)).sorted() })"
    }
}

/// `tracker=`: identities across frames, predicted boxes on frames without inference, and
/// the stream events that must reset them.
final class TrackingTests: XCTestCase {
    func testCrossingBallsKeepOneIdEachWithByteTrackEveryThirdFrame() throws {
        let clip = try BallClip.make("crossing")
        defer { clip.remove() }
        let run = try gstLaunch(clip.source + ["!", "swiftyolo", "tracker=bytetrack", "interval=3", "post-messages=true",
                                               "!", "fakesink"], messages: true)
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = detectionLines(run.stdout)
        XCTAssertEqual(lines.count, clip.frames.count)
        let score = TrackingScore(lines: lines, clip: clip)
        print("crossing, bytetrack interval=3: \(score)")
        for ball in 0..<score.covered.count {
            XCTAssertGreaterThanOrEqual(score.covered[ball], 0.9, "ball \(ball): \(score)")
            XCTAssertLessThanOrEqual(score.switches[ball], 1, "ball \(ball): \(score)")
        }
        let mainIds = score.ids.map { ids in Dictionary(grouping: ids, by: { $0 }).max { $0.value.count < $1.value.count }?.key }
        XCTAssertEqual(Set(mainIds.compactMap { $0 }).count, clip.frames[0].count, "one id per ball: \(score)")
        // Frames without inference carry predicted boxes; inferred frames carry found ones.
        for line in lines {
            let frame = Int((Double(line["pts"] as! Int) / 33_333_333.3).rounded())
            for o in line["objects"] as? [[String: Any]] ?? [] {
                XCTAssertNotNil(o["track_id"], "frame \(frame): \(o)")
                XCTAssertEqual(o["predicted"] as? Bool ?? false, frame % 3 != 0, "frame \(frame): \(o)")
            }
        }
    }

    func testWithoutATrackerBoxesCarryNoIds() throws {
        let clip = try BallClip.make("parallel", frames: 6)
        defer { clip.remove() }
        let run = try gstLaunch(clip.source + ["!", "swiftyolo", "post-messages=true", "!", "fakesink"], messages: true)
        XCTAssertEqual(run.status, 0, run.stderr)
        let objects = detectionLines(run.stdout).flatMap { $0["objects"] as? [[String: Any]] ?? [] }
        XCTAssertFalse(objects.isEmpty)
        XCTAssertTrue(objects.allSatisfy { $0["track_id"] == nil && $0["predicted"] == nil }, "\(objects.prefix(3))")
    }

    /// The ids and confidences found before the encoder come back out of a file, through the
    /// viewer's own chain: chatparse before the decoder, videoconvert after it.
    func testTrackIdsSurviveChatinjectAFileChatparseAndConversion() throws {
        let clip = try BallClip.make("crossing", frames: 30)
        defer { clip.remove() }
        let video = NSTemporaryDirectory() + "chatcast-tracked-\(getpid()).mkv"
        defer { try? FileManager.default.removeItem(atPath: video) }
        let record = try gstLaunch(clip.source + ["!", "swiftyolo", "tracker=bytetrack", "interval=2", "post-messages=true",
                                                  "!", "videoconvert", "!", "video/x-raw,format=I420", "!", "x264enc", "!",
                                                  "h264parse", "!", "chatinject", "!", "matroskamux", "!", "filesink",
                                                  "location=\(video)"], messages: true)
        XCTAssertEqual(record.status, 0, record.stderr)
        let play = try gstLaunch(["filesrc", "location=\(video)", "!", "matroskademux", "!", "h264parse", "!", "chatparse",
                                  "post-messages=false", "!", "avdec_h264", "!", "videoconvert", "!",
                                  "video/x-raw,format=BGRx", "!", "chatsink"])
        XCTAssertEqual(play.status, 0, play.stderr)
        func key(_ line: [String: Any]) -> [String] {
            (line["objects"] as? [[String: Any]] ?? []).map {
                "\($0["track_id"] ?? "-") \($0["label"] ?? "") \($0["confidence"] ?? "") \($0["predicted"] as? Bool ?? false)"
            }.sorted()
        }
        // Matroska keeps milliseconds: compare frame numbers.
        func frame(_ line: [String: Any]) -> Int { Int((Double(line["pts"] as! Int) / 33_333_333.3).rounded()) }
        let found = Dictionary(detectionLines(record.stdout).map { (frame($0), key($0)) }, uniquingKeysWith: { a, _ in a })
        let seen = play.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        XCTAssertEqual(seen.count, clip.frames.count)
        var tracked = 0
        for line in seen {
            XCTAssertEqual(key(line), found[frame(line)], "frame \(frame(line))")
            tracked += (line["objects"] as? [[String: Any]] ?? []).filter { $0["track_id"] != nil }.count
        }
        XCTAssertGreaterThan(tracked, clip.frames.count, "ids arrived")
    }

    /// A flush (what a seek sends) starts tracking over: no id from before it comes back,
    /// and the first frame after it is inferred, not predicted.
    func testAFlushResetsTheTracker() throws {
        let h = Harness("swiftyolo", properties: ["tracker": "bytetrack", "interval": 4])
        h.addSource("videotestsrc pattern=ball animation-mode=frames ! capsfilter caps=\"video/x-raw,format=NV12,width=320,height=240,framerate=30/1\"")
        var before: Set<Int> = []
        for _ in 0..<6 {
            guard let b = h.pushAndPull() else { return XCTFail("no buffer") }
            before.formUnion(BufferRef(b).regionsOfInterest.compactMap(\.trackId))
            gst_buffer_unref(b)
        }
        XCTAssertFalse(before.isEmpty)
        XCTAssertTrue(gst_harness_push_event(h.pointer, gst_event_new_flush_start()) != 0)
        XCTAssertTrue(gst_harness_push_event(h.pointer, gst_event_new_flush_stop(1)) != 0)
        var segment = GstSegment()
        gst_segment_init(&segment, GST_FORMAT_TIME)
        XCTAssertTrue(gst_harness_push_event(h.pointer, gst_event_new_segment(&segment)) != 0)
        guard let first = h.pushAndPull() else { return XCTFail("no buffer after the flush") }
        let regions = BufferRef(first).regionsOfInterest
        gst_buffer_unref(first)
        XCTAssertEqual(regions.count, 1)
        XCTAssertFalse(regions.first?.predicted ?? true, "the first frame after a flush is inferred")
        if let id = regions.first?.trackId {
            XCTAssertFalse(before.contains(id), "id \(id) leaked across the flush (before: \(before))")
        } else {
            XCTFail("no track id after the flush")
        }
        XCTAssertTrue(h.get("stats").contains("inferences=(guint64)3"), h.get("stats"))
    }

    func testBadTrackerSettingsGetClearErrors() throws {
        _ = GStreamerOnce.ready
        let element = gst_element_factory_make("swiftyolo", nil)!
        defer { gst_object_unref(element) }
        Harness.set(element, "tracker", "bytetrack")
        Harness.set(element, "track-low-thresh", 0.7)
        let bus = gst_bus_new()!
        defer { gst_object_unref(bus) }
        gst_element_set_bus(element, bus)
        XCTAssertEqual(gst_element_set_state(element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE)
        gst_element_set_state(element, GST_STATE_NULL)
        let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)
        var error: UnsafeMutablePointer<GError>? = nil
        if let message { gst_message_parse_error(message, &error, nil) }
        let text = error.map { String(cString: $0.pointee.message) } ?? ""
        if let error { g_error_free(error) }
        if let message { gst_message_unref(message) }
        XCTAssertTrue(text.contains("track-low-thresh (0.7) must be below track-high-thresh (0.5)"), text)

        let unknown = try gstLaunch(["videotestsrc", "num-buffers=1", "!", "swiftyolo", "tracker=sort", "!", "fakesink"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("tracker"), unknown.stderr)
        let outOfRange = try gstLaunch(["videotestsrc", "num-buffers=1", "!", "swiftyolo", "track-buffer=0", "!", "fakesink"])
        XCTAssertTrue((outOfRange.stderr + outOfRange.stdout).contains("track-buffer"), outOfRange.stderr)
    }

    func testOverlayWritesTheTrackIdAndColoursByTrack() throws {
        func draw(trackId: Int?) throws -> [UInt8] {
            let h = Harness("yolooverlay")
            gst_harness_set_src_caps_str(h.pointer, "video/x-raw,format=BGRx,width=320,height=240,framerate=30/1")
            let buffer = gst_harness_create_buffer(h.pointer, 320 * 240 * 4)!
            gst_buffer_memset(buffer, 0, 0, 320 * 240 * 4)
            BufferRef(buffer).addDetection(label: "ball", classId: 0, confidence: 0.93, x: 50, y: 100, width: 100,
                                           height: 80, trackId: trackId)
            return try pushAndReadBytes(h, buffer)
        }
        let plain = try draw(trackId: nil), tracked = try draw(trackId: 7), other = try draw(trackId: 8)
        func pixel(_ bytes: [UInt8], _ x: Int, _ y: Int) -> [UInt8] { (0..<3).map { bytes[(y * 320 + x) * 4 + $0] } }
        XCTAssertNotEqual(pixel(tracked, 51, 140), pixel(other, 51, 140), "tracks 7 and 8 get their own colours")
        XCTAssertNotEqual(pixel(tracked, 51, 140), [0, 0, 0])
        // "#7 ball 93%" is a wider tab than "ball 93%".
        func tabWidth(_ bytes: [UInt8]) -> Int {
            let edge = pixel(bytes, 51, 140)
            return (86..<99).map { y in (50..<320).last { pixel(bytes, $0, y) == edge } ?? 0 }.max()! - 50
        }
        XCTAssertGreaterThan(tabWidth(tracked), tabWidth(plain) + 10)

        // Track 1's tab is purple (109, 0, 255): its text is white, where class 0's light
        // orange tab has black text.
        let dark = try draw(trackId: 1)
        let tab = { (bytes: [UInt8]) in (52..<110).flatMap { x in (85..<99).map { pixel(bytes, x, $0) } } }
        XCTAssertGreaterThan(tab(dark).filter { $0.allSatisfy { $0 > 200 } }.count, 10, "white text on a dark tab")
        XCTAssertEqual(tab(plain).filter { $0.allSatisfy { $0 > 200 } }.count, 0, "no white text on a light tab")
    }
}
