import YoloCore

/// A loaded detector and the one thread that may run it (`InferenceThread`): every use of
/// the detector goes through `run` or `runLater`, so its decoding state needs no lock, and
/// what other threads may read of it is copied out at load.
final class DetectorOnThread: @unchecked Sendable {  // `detector` is touched only by closures on `thread`
    private let detector: Detector
    private let thread: InferenceThread
    let modelPath: String
    let head: DetectionHead
    let labels: [String]
    let tensorWidth: Int, tensorHeight: Int
    /// How long a warm forward took at load: the latency a sync-mode element adds.
    let warmForwardMilliseconds: Double
    private let fit: InputGeometry.Fit
    private let wantsBGR: Bool

    /// Starts the thread and loads the model on it; the thread is gone again if loading fails.
    init(_ config: DetectorConfiguration) throws {
        let thread = InferenceThread()
        let detector: Detector
        do { detector = try thread.sync { try Detector(config) } } catch {
            thread.stop()
            throw error
        }
        self.thread = thread
        self.detector = detector
        modelPath = detector.model.path
        head = detector.head
        labels = detector.labels
        tensorWidth = detector.tensorWidth
        tensorHeight = detector.tensorHeight
        warmForwardMilliseconds = detector.warmForwardMilliseconds
        fit = detector.layout.head.fit
        wantsBGR = detector.layout.head.wantsBGR
    }

    var classCount: Int { labels.count }

    /// Runs `body` with the detector on its thread and waits for it.
    func run<T>(_ body: (Detector) throws -> T) throws -> T {
        try thread.sync { try body(detector) }
    }

    /// Queues `body` to run with the detector on its thread.
    func runLater(_ body: @escaping @Sendable (Detector) -> Void) {
        thread.async { [self] in body(detector) }
    }

    /// Returns once everything queued so far has run.
    func waitUntilIdle() { _ = try? thread.sync {} }

    /// Finishes what is queued and ends the thread.
    func stop() { thread.stop() }

    func makePreprocessor(frameWidth: Int, frameHeight: Int) -> Preprocessor {
        Preprocessor(geometry: InputGeometry(frameWidth: frameWidth, frameHeight: frameHeight, tensorWidth: tensorWidth,
                                             tensorHeight: tensorHeight, fit: fit),
                     bgr: wantsBGR)
    }

    /// Class names of `classes` that are neither a label of the model nor a class id.
    func unknownClasses(_ classes: [String]) -> [String] { Detector.allowedClasses(classes, labels: labels).unknown }
}
