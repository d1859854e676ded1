#if canImport(Glibc)
import Glibc
#endif
import YoloCore

/// Inference on a worker thread for `mode=async`: the streaming thread never waits. It
/// hands over its newest preprocessed frame (triple buffering: the streaming thread fills
/// `staging`, swaps it with `pending`; the worker swaps `pending` into `working`) and
/// takes whatever results are newest.
final class AsyncInference {
    struct Job {
        var geometry: InputGeometry
        var settings: DecodeSettings
    }

    private let detector: Detector
    private let tensorCount: Int
    private var staging: UnsafeMutableBufferPointer<Float>
    private var pending: UnsafeMutableBufferPointer<Float>
    private var working: UnsafeMutableBufferPointer<Float>
    private var pendingJob: Job?
    private var latest: [LabeledDetection] = []
    private var failure: String?
    private var stopping = false
    private var thread = pthread_t()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let onTiming: (Double, Double) -> Void

    init(detector: Detector, onTiming: @escaping (Double, Double) -> Void) {
        self.detector = detector
        self.onTiming = onTiming
        tensorCount = 3 * detector.tensorWidth * detector.tensorHeight
        staging = .allocate(capacity: tensorCount)
        pending = .allocate(capacity: tensorCount)
        working = .allocate(capacity: tensorCount)
        for b in [staging, pending, working] { b.initialize(repeating: Preprocessor.padValue) }
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<AsyncInference>.fromOpaque(raw!).takeRetainedValue()
            me.run()
            return nil
        }, unmanaged.toOpaque())
    }

    deinit {
        for b in [staging, pending, working] { b.deallocate() }
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
    }

    /// Streaming thread: preprocess into the staging buffer, then publish it as the newest job.
    /// Buffers keep their padding from init, so one instance serves one frame geometry.
    func submit(geometry: InputGeometry, settings: DecodeSettings, fill: (UnsafeMutablePointer<Float>) -> Void) {
        fill(staging.baseAddress!)
        pthread_mutex_lock(mutex)
        swap(&staging, &pending)
        pendingJob = Job(geometry: geometry, settings: settings)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// The newest results, or the worker's error.
    func newest() -> Result<[LabeledDetection], Detector.SetupError> {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let failure { return .failure(Detector.SetupError(description: failure)) }
        return .success(latest)
    }

    /// Stops and joins the worker. Must be called before the last reference goes.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while !stopping && pendingJob == nil { pthread_cond_wait(wake, mutex) }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = pendingJob!
            pendingJob = nil
            swap(&pending, &working)
            pthread_mutex_unlock(mutex)

            let result: [LabeledDetection]
            do {
                result = try detector.detect(working.baseAddress!, geometry: job.geometry, settings: job.settings,
                                             timing: onTiming)
            } catch {
                pthread_mutex_lock(mutex)
                failure = "\(detector.model.path): inference failed: \(error)"
                pthread_mutex_unlock(mutex)
                return
            }
            pthread_mutex_lock(mutex)
            latest = result
            pthread_mutex_unlock(mutex)
        }
    }
}
