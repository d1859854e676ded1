import YoloCore

/// The counters behind the read-only `stats` property.
struct InferenceStats {
    var frames: UInt64 = 0
    var inferences: UInt64 = 0
    var preprocess = LatencyStats()
    var inference = LatencyStats()
    var postprocess = LatencyStats()

    mutating func record(_ outcome: Detector.Outcome) {
        inferences += 1
        inference.add(outcome.inferenceMilliseconds)
        postprocess.add(outcome.postprocessMilliseconds)
    }

    /// GstStructure text, e.g. `stats, frames=(guint64)10, …`.
    var structureText: String {
        func ms(_ v: Double) -> String { "(double)\((v * 1000).rounded() / 1000)" }
        return "stats, frames=(guint64)\(frames), inferences=(guint64)\(inferences), "
            + "preprocess-mean-ms=\(ms(preprocess.mean)), preprocess-p95-ms=\(ms(preprocess.p95)), "
            + "inference-mean-ms=\(ms(inference.mean)), inference-p95-ms=\(ms(inference.p95)), "
            + "postprocess-mean-ms=\(ms(postprocess.mean)), postprocess-p95-ms=\(ms(postprocess.p95))"
    }
}
