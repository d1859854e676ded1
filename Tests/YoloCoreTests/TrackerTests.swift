import XCTest
import YoloCore

final class LinearAssignmentTests: XCTestCase {
    func testFindsTheCheapestMatchingNotTheGreedyOne() {
        // Greedy would take (0,0)=0.1 and then pay 0.9 for (1,1); the optimum is 0.2 + 0.3.
        let cost = [[0.1, 0.2], [0.3, 0.9]]
        let outcome = LinearAssignment.solve(cost, columns: 2, threshold: 1)
        XCTAssertEqual(outcome.matches.map { [$0.row, $0.column] }, [[0, 1], [1, 0]])
        XCTAssertTrue(outcome.unmatchedRows.isEmpty && outcome.unmatchedColumns.isEmpty)
    }

    func testPairsAboveTheThresholdStayApart() {
        let cost = [[0.9, 0.95], [0.2, 0.99]]
        let outcome = LinearAssignment.solve(cost, columns: 2, threshold: 0.8)
        XCTAssertEqual(outcome.matches.map { [$0.row, $0.column] }, [[1, 0]])
        XCTAssertEqual(outcome.unmatchedRows, [0])
        XCTAssertEqual(outcome.unmatchedColumns, [1])
    }

    func testRectangularAndEmptyInputs() {
        let outcome = LinearAssignment.solve([[0.5, 0.1, 0.7]], columns: 3, threshold: 0.8)
        XCTAssertEqual(outcome.matches.map { [$0.row, $0.column] }, [[0, 1]])
        XCTAssertEqual(outcome.unmatchedColumns, [0, 2])
        let none = LinearAssignment.solve([], columns: 4, threshold: 0.8)
        XCTAssertEqual(none.unmatchedColumns, [0, 1, 2, 3])
        let noColumns = LinearAssignment.solve([[], []], columns: 0, threshold: 0.8)
        XCTAssertEqual(noColumns.unmatchedRows, [0, 1])
    }

    func testACrowdBeyondTheExactLimitStillMatchesEveryObviousPair() {
        let n = LinearAssignment.exactLimit
        let cost = (0..<n).map { r in (0..<n).map { c in r == c ? 0.05 : 0.99 } }
        let outcome = LinearAssignment.solve(cost, columns: n, threshold: 0.8)
        XCTAssertEqual(outcome.matches.count, n)
        XCTAssertTrue(outcome.matches.allSatisfy { $0.row == $0.column })
    }
}

final class KalmanBoxFilterTests: XCTestCase {
    func testLearnsAConstantVelocityAndExtrapolatesIt() {
        var filter = KalmanBoxFilter(box: Box(centerX: 100, centerY: 50, width: 40, height: 40))
        for t in 1...20 {
            filter.predict()
            filter.update(with: Box(centerX: 100 + 5 * Double(t), centerY: 50 + 2 * Double(t), width: 40, height: 40))
        }
        let ahead = filter.extrapolated(steps: 3)
        XCTAssertEqual((ahead.x1 + ahead.x2) / 2, 100 + 5 * 23, accuracy: 1)
        XCTAssertEqual((ahead.y1 + ahead.y2) / 2, 50 + 2 * 23, accuracy: 1)
        XCTAssertEqual(ahead.width, 40, accuracy: 1)
    }
}

final class ObjectTrackerTests: XCTestCase {
    private func ball(_ cx: Double, _ cy: Double, score: Double = 0.9, classId: Int = 0) -> LabeledDetection {
        LabeledDetection(label: classId == 0 ? "ball" : "cup", classId: classId, confidence: score,
                         x: Int(cx - 20), y: Int(cy - 20), width: 40, height: 40)
    }

    private func settings(_ kind: TrackerKind) -> TrackerSettings {
        var s = TrackerSettings()
        s.kind = kind
        return s
    }

    /// Two balls meeting head-on: for frames around the meeting only one box is seen.
    private func headOn(frame t: Int) -> [LabeledDetection] {
        let a = ball(100 + 6 * Double(t), 200), b = ball(500 - 6 * Double(t), 200)
        return abs(a.x - b.x) < 30 ? [ball(Double(a.x + b.x) / 2 + 20, 200)] : [a, b]
    }

    func testByteTrackKeepsIdentitiesThroughAHeadOnCrossing() {
        var tracker = makeTracker(settings(.bytetrack), width: 640, height: 360)!
        var idsOfA: Set<Int> = [], idsOfB: Set<Int> = []
        for t in 0..<67 {
            for o in tracker.update(headOn(frame: t), frame: t) where headOn(frame: t).count == 2 {
                let cx = o.x + o.width / 2
                if abs(cx - (100 + 6 * t)) < 15 { idsOfA.insert(o.trackId!) }
                if abs(cx - (500 - 6 * t)) < 15 { idsOfB.insert(o.trackId!) }
            }
        }
        XCTAssertEqual(idsOfA.count, 1, "ball A's ids: \(idsOfA)")
        XCTAssertEqual(idsOfB.count, 1, "ball B's ids: \(idsOfB)")
        XCTAssertNotEqual(idsOfA, idsOfB)
    }

    func testByteTrackFillsSkippedFramesWithMovingPredictions() {
        var tracker = makeTracker(settings(.bytetrack), width: 640, height: 360)!
        var worst = 0.0
        for t in 0..<60 {
            let truth = 100 + 5 * Double(t)
            let out = t % 3 == 0 ? tracker.update([ball(truth, 100)], frame: t) : tracker.predicted(at: t)
            guard t >= 12 else { continue }
            XCTAssertEqual(out.count, 1, "frame \(t)")
            XCTAssertEqual(out.first?.predicted, t % 3 != 0)
            if let o = out.first { worst = max(worst, abs(Double(o.x + o.width / 2) - truth)) }
        }
        XCTAssertLessThan(worst, 4, "a stale box would lag 10 px")
    }

    func testLowScoreBoxesContinueTracksButNeverStartThem() {
        var tracker = makeTracker(settings(.bytetrack), width: 640, height: 360)!
        let first = tracker.update([ball(100, 100, score: 0.9)], frame: 0)
        XCTAssertEqual(first.map(\.trackId), [1])
        let dim = tracker.update([ball(104, 100, score: 0.3)], frame: 1)
        XCTAssertEqual(dim.map(\.trackId), [1], "a 0.3 box keeps track 1 alive")
        let stranger = tracker.update([ball(104, 100, score: 0.3), ball(400, 300, score: 0.3)], frame: 2)
        XCTAssertEqual(stranger.map(\.trackId), [1], "a 0.3 box alone starts nothing")
    }

    func testALostTrackIsFoundAgainWithinItsBufferAndForgottenAfter() {
        var s = settings(.bytetrack)
        s.trackBuffer = 10
        var tracker = makeTracker(s, width: 640, height: 360)!
        for t in 0..<5 { _ = tracker.update([ball(100, 100)], frame: t) }
        for t in 5..<10 { XCTAssertTrue(tracker.update([], frame: t).isEmpty) }
        XCTAssertEqual(tracker.update([ball(100, 100)], frame: 10).map(\.trackId), [1])
        for t in 11..<30 { _ = tracker.update([], frame: t) }
        _ = tracker.update([ball(100, 100)], frame: 30)
        XCTAssertEqual(tracker.update([ball(100, 100)], frame: 31).map(\.trackId), [2])
    }

    func testResetForgetsTracksAndNeverReusesAnID() {
        for kind in [TrackerKind.iou, .bytetrack] {
            var tracker = makeTracker(settings(kind), width: 640, height: 360)!
            for t in 0..<3 { _ = tracker.update([ball(100, 100), ball(300, 100)], frame: t) }
            tracker.reset()
            XCTAssertNil(tracker.lastFrame)
            XCTAssertTrue(tracker.predicted(at: 5).isEmpty, "\(kind)")
            let after = tracker.update([ball(100, 100)], frame: 0) + tracker.update([ball(100, 100)], frame: 1)
            XCTAssertTrue(after.allSatisfy { $0.trackId! > 2 }, "\(kind): \(after.map(\.trackId))")
        }
    }

    func testIOUTrackerMatchesWithinAClassAndHoldsBoxesStill() {
        var tracker = makeTracker(settings(.iou), width: 640, height: 360)!
        let first = tracker.update([ball(100, 100), ball(100, 100, classId: 1)], frame: 0)
        XCTAssertEqual(first.map(\.trackId), [1, 2])
        let second = tracker.update([ball(106, 100, classId: 1), ball(106, 100)], frame: 1)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: second.map { ($0.label, $0.trackId!) }), ["ball": 1, "cup": 2])
        let carried = tracker.predicted(at: 2)
        XCTAssertEqual(carried.map(\.x), [86, 86])
        XCTAssertTrue(carried.allSatisfy(\.predicted))
    }

    func testContradictorySettingsAreExplained() {
        var s = settings(.bytetrack)
        s.lowThreshold = 0.6
        XCTAssertTrue(s.problem?.contains("track-low-thresh (0.6) must be below track-high-thresh (0.5)") == true)
        s = settings(.bytetrack)
        s.newTrackThreshold = 0.3
        XCTAssertTrue(s.problem?.contains("new-track-thresh") == true)
        XCTAssertNil(settings(.bytetrack).problem)
        s.kind = .none
        XCTAssertNil(s.problem)
    }

    func testTrackBufferFollowsTheFrameRate() {
        var s = settings(.bytetrack)
        s.frameRate = 60
        XCTAssertEqual(s.maxFramesLost, 60)
        s.frameRate = 0
        XCTAssertEqual(s.maxFramesLost, 30)
    }
}

final class BufferedMatchingTests: XCTestCase {
    /// Every fifth frame a ball moves 30 px: plain IoU of a track at rest (its motion not yet
    /// known) misses it and the track dies; the buffer that grows with the gap keeps it.
    func testSparseUpdatesStillConfirmTracksOfMovingObjects() {
        var s = TrackerSettings()
        s.kind = .bytetrack
        var tracker = makeTracker(s, width: 640, height: 360)!
        var ids: Set<Int> = []
        for t in stride(from: 0, to: 60, by: 5) {
            let box = LabeledDetection(label: "ball", classId: 0, confidence: 0.9, x: 20 + 6 * t, y: 100, width: 40, height: 40)
            let out = tracker.update([box], frame: t)
            XCTAssertEqual(out.count, 1, "frame \(t)")
            ids.formUnion(out.compactMap(\.trackId))
        }
        XCTAssertEqual(ids, [1])
    }

    func testABufferGrowsTheBoxOnEverySide() {
        let b = Box(x1: 10, y1: 20, x2: 50, y2: 40).buffered(0.5)
        XCTAssertEqual(b, Box(x1: -10, y1: 10, x2: 70, y2: 50))
        XCTAssertEqual(Box(x1: 0, y1: 0, x2: 1, y2: 1).buffered(0), Box(x1: 0, y1: 0, x2: 1, y2: 1))
    }
}
