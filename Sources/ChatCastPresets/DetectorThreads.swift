extension ServeConfig {
    /// Torch threads for each of `detectors` detecting pipelines a server runs (a relay per
    /// detected room, a pipeline per detecting mount): the cores shared out, at least one
    /// each. Each pipeline has its own OpenMP team, and teams that outnumber the cores spin at
    /// each other's barriers: two 2-thread detectors on 2 cores ran several times slower than
    /// two 1-thread ones (bench/results/contention.md).
    public static func detectorThreads(cores: Int, detectors: Int) -> Int {
        max(1, cores / max(1, detectors))
    }
}
