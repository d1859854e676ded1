#if canImport(Glibc)
import Glibc
#endif

/// glibc gives each new thread a new arena, up to 8 a core, and keeps memory freed in an arena
/// for it; `serve`'s hundreds of short-lived streaming threads left freed memory over 16 arenas
/// on 2 cores and RSS crept under churn. One arena a core; MALLOC_ARENA_MAX, when set, wins.
enum MallocArenas {
    /// malloc.h is not in Swift's Glibc module.
    @_silgen_name("mallopt")
    private static func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

    static func apply() {
        #if canImport(Glibc)
        if let asked = getenv("MALLOC_ARENA_MAX"), asked.pointee != 0 { return }
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, Int32(max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        #endif
    }
}
