#if canImport(Glibc)
import Glibc
#endif

/// One long-lived thread that runs every libtorch call of an element: load, warm-up and
/// forwards, in sync and async mode alike.
///
/// Why: libgomp keeps a thread team per calling thread, and once more OpenMP threads exist
/// than cores it stops spinning at barriers, so every parallel region pays futex wake-ups.
/// Forwards on GStreamer's streaming thread after a warm-up on the application thread ran
/// ~40 % slower than a bare loop (YOLOv8n, 2 cores); one thread for all of it keeps one team.
final class InferenceThread {
    private var queue: [() -> Void] = []
    private var stopping = false
    private var thread = pthread_t()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        let retained = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            Unmanaged<InferenceThread>.fromOpaque(raw!).takeRetainedValue().loop()
            return nil
        }, retained.toOpaque())
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
    }

    /// Queues `body` to run on the thread.
    func async(_ body: @escaping () -> Void) {
        pthread_mutex_lock(mutex)
        queue.append(body)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` on the thread and waits for its result.
    func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        var result: Result<T, Error>? = nil
        let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        pthread_cond_init(done, nil)
        defer {
            pthread_cond_destroy(done)
            done.deallocate()
        }
        async { [mutex] in
            let outcome = Result { try body() }
            pthread_mutex_lock(mutex)
            result = outcome
            pthread_cond_signal(done)
            pthread_mutex_unlock(mutex)
        }
        pthread_mutex_lock(mutex)
        while result == nil { pthread_cond_wait(done, mutex) }
        pthread_mutex_unlock(mutex)
        return try result!.get()
    }

    /// Finishes what is queued, then ends and joins the thread.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !stopping { pthread_cond_wait(wake, mutex) }
            if queue.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            let next = queue.removeFirst()
            pthread_mutex_unlock(mutex)
            next()
        }
    }
}
