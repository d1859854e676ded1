#if canImport(Glibc)
import Glibc
#endif
import YoloCore

/// `mode=async`: the streaming thread never waits. It hands over its newest preprocessed
/// frame (triple buffering: the streaming thread fills `staging` and swaps it with
/// `pending`; the inference thread swaps `pending` into `working`) and takes whatever
/// results are newest. A frame that arrives while one waits replaces it.
final class AsyncInference: @unchecked Sendable {  // shared fields change only under `mutex`; `working` is used only by drain() on the detector's thread
    struct Job {
        var geometry: InputGeometry
        var settings: DecodeSettings
        /// The stream frame it was taken from.
        var frame: Int
    }

    /// Detections and the frame they were found on.
    struct Found {
        var frame: Int
        var detections: [LabeledDetection]
    }

    private let detector: DetectorOnThread
    private var staging: UnsafeMutableBufferPointer<Float>
    private var pending: UnsafeMutableBufferPointer<Float>
    private var working: UnsafeMutableBufferPointer<Float>
    private var pendingJob: Job?
    private var draining = false
    private var latest: Found?
    /// Bumped by reset(): a job started before a flush must not report into the new segment.
    private var generation = 0
    private var failure: String?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let onResult: @Sendable (Detector.Outcome) -> Void

    /// Buffers keep the padding painted here, so one instance serves one frame geometry.
    init(detector: DetectorOnThread, onResult: @escaping @Sendable (Detector.Outcome) -> Void) {
        self.detector = detector
        self.onResult = onResult
        let count = 3 * detector.tensorWidth * detector.tensorHeight
        staging = .allocate(capacity: count)
        pending = .allocate(capacity: count)
        working = .allocate(capacity: count)
        for b in [staging, pending, working] { b.initialize(repeating: Preprocessor.padValue) }
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        for b in [staging, pending, working] { b.deallocate() }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Streaming thread: preprocess into the staging buffer, then publish it as the newest job.
    func submit(geometry: InputGeometry, settings: DecodeSettings, frame: Int,
                fill: (UnsafeMutablePointer<Float>) -> Void) {
        fill(staging.baseAddress!)
        pthread_mutex_lock(mutex)
        swap(&staging, &pending)
        pendingJob = Job(geometry: geometry, settings: settings, frame: frame)
        let wakeThread = !draining
        draining = true
        pthread_mutex_unlock(mutex)
        if wakeThread { detector.runLater { [self] detector in drain(detector) } }
    }

    /// The newest results (nil before the first), or the inference thread's error.
    func newest() -> Result<Found?, Detector.SetupError> {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let failure { return .failure(Detector.SetupError(description: failure)) }
        return .success(latest)
    }

    /// A flush or a new segment: forget the waiting job and every result so far.
    func reset() {
        pthread_mutex_lock(mutex)
        pendingJob = nil
        latest = nil
        generation += 1
        pthread_mutex_unlock(mutex)
    }

    /// Inference thread: run jobs until none is pending.
    private func drain(_ detector: Detector) {
        while true {
            pthread_mutex_lock(mutex)
            guard let job = pendingJob, failure == nil else {
                draining = false
                pthread_mutex_unlock(mutex)
                return
            }
            pendingJob = nil
            swap(&pending, &working)
            let startedIn = generation
            pthread_mutex_unlock(mutex)

            let result = Result {
                try detector.detect(working.baseAddress!, geometry: job.geometry, settings: job.settings)
            }
            if case let .success(outcome) = result { onResult(outcome) }
            pthread_mutex_lock(mutex)
            switch result {
            case let .success(outcome) where startedIn == generation:
                latest = Found(frame: job.frame, detections: outcome.detections)
            case .success: break
            case let .failure(error): failure = "\(detector.model.path): inference failed: \(error)"
            }
            pthread_mutex_unlock(mutex)
        }
    }
}
