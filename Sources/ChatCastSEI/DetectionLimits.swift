import YoloCore

/// The reader's limits for detections, applied by writers: boxes clamped into the frame,
/// labels cleaned and cut, scores and class ids in range, at most `maxObjects` (best
/// scores kept), so every object written is one the reader keeps.
public enum DetectionLimits {
    public static func apply(_ d: EnvelopeDetections) -> EnvelopeDetections {
        let width = min(max(d.width, 1), EnvelopeDecoder.maxFrameSide)
        let height = min(max(d.height, 1), EnvelopeDecoder.maxFrameSide)
        var objects = d.objects
        if objects.count > EnvelopeDecoder.maxObjects {
            objects.sort { $0.confidence > $1.confidence }
            objects = Array(objects.prefix(EnvelopeDecoder.maxObjects))
        }
        return EnvelopeDetections(width: width, height: height, objects: objects.map { o in
            let x = min(max(o.x, 0), width), y = min(max(o.y, 0), height)
            let label = ChatLimits.name(o.label, max: EnvelopeDecoder.maxFieldCharacters) ?? "object"
            let confidence = o.confidence.isNaN ? 0 : min(max(o.confidence, 0), 1)
            return LabeledDetection(label: label, classId: min(max(o.classId, 0), 1_000_000), confidence: confidence,
                                    x: x, y: y, width: min(max(o.width, 0), width - x), height: min(max(o.height, 0), height - y),
                                    trackId: o.trackId.map { min(max($0, 1), EnvelopeDecoder.maxTrackID) },
                                    predicted: o.predicted)
        })
    }
}
