#include "CSanitizerHooks.h"

// Defined by the ThreadSanitizer runtime when one is linked or preloaded; null otherwise.
void __tsan_acquire(void *address) __attribute__((weak));
void __tsan_release(void *address) __attribute__((weak));

void cchatcast_tsan_acquire(const void *address) {
  if (__tsan_acquire) __tsan_acquire((void *)address);
}

void cchatcast_tsan_release(const void *address) {
  if (__tsan_release) __tsan_release((void *)address);
}
