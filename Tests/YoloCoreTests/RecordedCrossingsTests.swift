import Foundation
import XCTest
import YoloCore

/// The bundled ball model's detections on the synthetic clips of Tests/fixtures/crossing_balls.py,
/// recorded once (Tests/fixtures/recorded/*-balls.json), with where each ball truly was.
struct RecordedClip {
    let radius: Double
    /// truth[frame][ball] = centre
    let truth: [[[Double]]]
    let detections: [[LabeledDetection]]

    init(_ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../fixtures/recorded/\(name)-balls.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        radius = json["radius"] as! Double
        truth = json["truth"] as! [[[Double]]]
        detections = (json["detections"] as! [[[Double]]]).map { frame in
            frame.map { LabeledDetection(label: "ball", classId: 0, confidence: $0[4], x: Int($0[0]), y: Int($0[1]),
                                         width: Int($0[2]), height: Int($0[3])) }
        }
    }

    /// The tracker's output on every frame, updated on every `interval`th.
    func replay(interval: Int) -> [[LabeledDetection]] {
        var s = TrackerSettings()
        s.kind = .bytetrack
        var tracker = makeTracker(s, width: 640, height: 360)!
        return detections.indices.map { f in
            f % interval == 0 ? tracker.update(detections[f], frame: f) : tracker.predicted(at: f)
        }
    }

    /// CLEAR-MOT as the tracking benchmark scores it: a ball and a box correspond when their
    /// IoU is at least 0.5; a ball keeps last frame's track while that still holds.
    func score(_ output: [[LabeledDetection]]) -> (mota: Double, switches: Int) {
        var errors = 0, objects = 0, switches = 0
        var last: [Int: Int] = [:]
        for (f, balls) in truth.enumerated() {
            let boxes = output[f].map { Box(x1: Double($0.x), y1: Double($0.y), x2: Double($0.x + $0.width),
                                            y2: Double($0.y + $0.height)) }
            let truths = balls.map { Box(centerX: $0[0], centerY: $0[1], width: 2 * radius, height: 2 * radius) }
            var pairs: [(ball: Int, box: Int)] = []
            for b in truths.indices {
                if let id = last[b], let k = output[f].indices.first(where: { output[f][$0].trackId == id
                    && truths[b].iou(boxes[$0]) >= 0.5 && !pairs.map(\.box).contains($0) }) {
                    pairs.append((b, k))
                }
            }
            let freeBalls = truths.indices.filter { b in !pairs.contains { $0.ball == b } }
            let freeBoxes = boxes.indices.filter { k in !pairs.contains { $0.box == k } }
            let costs = freeBalls.map { b in freeBoxes.map { 1 - truths[b].iou(boxes[$0]) } }
            for m in LinearAssignment.solve(costs, columns: freeBoxes.count, threshold: 0.5).matches {
                pairs.append((freeBalls[m.row], freeBoxes[m.column]))
            }
            objects += truths.count
            errors += (truths.count - pairs.count) + (boxes.count - pairs.count)
            for (b, k) in pairs {
                guard let id = output[f][k].trackId else { continue }
                if let was = last[b], was != id { switches += 1 }
                last[b] = id
            }
        }
        return (1 - Double(errors + switches) / Double(objects), switches)
    }
}

final class RecordedCrossingsTests: XCTestCase {
    /// Four balls weaving through each other, updated every frame: plain ByteTrack (and
    /// Ultralytics' on these detections) switches 8 times, MOTA 0.769, because a box that
    /// covers two merged balls pulls both tracks onto it.
    func testWeavingBallsSwitchFewerIdsThanPlainByteTrack() throws {
        let clip = try RecordedClip("weave")
        let (mota, switches) = clip.score(clip.replay(interval: 1))
        XCTAssertLessThanOrEqual(switches, 4)
        XCTAssertGreaterThan(mota, 0.8)
    }

    /// The clips where plain ByteTrack already does well stay as good, at every interval
    /// (figures: bench/results/ultralytics.md before shared boxes coasted).
    func testCrossingAndParallelBallsLoseNothing() throws {
        let floors: [(clip: String, interval: Int, mota: Double)] = [
            ("crossing", 1, 0.967), ("crossing", 3, 0.959), ("crossing", 5, 0.919),
            ("parallel", 1, 1.0), ("parallel", 3, 1.0), ("parallel", 5, 0.956),
            ("weave", 3, 0.722), ("weave", 5, 0.572),
        ]
        for (name, interval, floor) in floors {
            let clip = try RecordedClip(name)
            let (mota, switches) = clip.score(clip.replay(interval: interval))
            XCTAssertGreaterThanOrEqual(mota, floor - 0.0005, "\(name) interval=\(interval)")
            if name != "weave" { XCTAssertEqual(switches, 0, "\(name) interval=\(interval)") }
        }
    }
}
