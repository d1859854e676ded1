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
final class InferenceThread: @unchecked Sendable {  // `queue` and `stopping` are touched only under `mutex`
    /// Work for the thread; a caller waiting for it is woken once `work` is let go.
    private final class Job {
        var work: (() -> Void)?
        var finished = false
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    private var queue: [Job] = []
    private var stopping = false
    private var thread = pthread_t()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        let retained = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            Unmanaged<InferenceThread>.fromOpaque(raw!).takeRetainedValue().loop()
            return nil
        }, retained.toOpaque())
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_cond_destroy(finished)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
        finished.deallocate()
    }

    /// Queues `body` to run on the thread.
    func async(_ body: @escaping @Sendable () -> Void) { _ = enqueue(body) }

    private func enqueue(_ body: @escaping () -> Void) -> Job {
        let job = Job(body)
        pthread_mutex_lock(mutex)
        queue.append(job)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        return job
    }

    /// Runs `body` on the thread and waits for its result. Like `DispatchQueue.sync`, the
    /// caller is blocked meanwhile, so what `body` captures is never used by two threads at
    /// once, and `body` is let go on the thread before the caller goes on.
    func sync<T>(_ body: () throws -> T) throws -> T {
        var result: Result<T, Error>? = nil
        withoutActuallyEscaping(body) { body in
            withUnsafeMutablePointer(to: &result) { slot in
                let job = enqueue { slot.pointee = Result { try body() } }
                pthread_mutex_lock(mutex)
                while !job.finished { pthread_cond_wait(finished, mutex) }
                pthread_mutex_unlock(mutex)
            }
        }
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
            let job = queue.removeFirst()
            pthread_mutex_unlock(mutex)
            job.work?()
            job.work = nil
            pthread_mutex_lock(mutex)
            job.finished = true
            pthread_cond_broadcast(finished)
            pthread_mutex_unlock(mutex)
        }
    }
}
