// What ThreadSanitizer cannot see by itself: a lock that is no pthread mutex (Swift's
// Mutex is a futex on Linux, outside any instrumented code). Without the sanitizer's
// runtime these do nothing.
#pragma once

/// The calling thread now holds the lock at `address`: what the last holder did before
/// `cchatcast_tsan_release` happened before this.
void cchatcast_tsan_acquire(const void *address);

/// The calling thread is about to let go of the lock at `address`.
void cchatcast_tsan_release(const void *address);
