import CSanitizerHooks
import Synchronization

/// Swift's `Mutex`, which ThreadSanitizer also sees: on Linux the standard library's lock is
/// a futex in code the sanitizer does not instrument, so every value it guards looked raced
/// (`make test-tsan`). Each critical section tells the sanitizer it acquires and releases
/// the lock; without the sanitizer that is a call that does nothing. Same interface as the
/// standard library's, so the compiler checks the values it guards the same way.
public struct Mutex<Value: ~Copyable>: ~Copyable {
    private let base: Synchronization.Mutex<Value>

    public init(_ initialValue: consuming sending Value) {
        base = Synchronization.Mutex(initialValue)
    }

    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try base.withLock { (value: inout sending Value) throws(E) -> sending Result in
            withUnsafePointer(to: base) { cchatcast_tsan_acquire($0) }
            defer { withUnsafePointer(to: base) { cchatcast_tsan_release($0) } }
            return try body(&value)
        }
    }
}

// As the standard library's: the lock is what makes it safe to share.
extension Mutex: @unchecked Sendable where Value: ~Copyable {}
