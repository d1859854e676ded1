import CGStreamer
import CGstGlue

/// A borrowed GstBuffer.
public struct BufferRef {
    public let pointer: UnsafeMutablePointer<GstBuffer>

    public init(_ pointer: UnsafeMutablePointer<GstBuffer>) { self.pointer = pointer }

    /// Presentation time in nanoseconds, nil when unknown.
    public var pts: UInt64? {
        let t = cgst_buffer_pts(pointer)
        return cgst_clock_time_is_valid(t) != 0 ? UInt64(t) : nil
    }

    /// Attaches a `GstVideoRegionOfInterestMeta` with the `detection` param structure (and
    /// the custom meta that carries those params through converters).
    @discardableResult
    public func addDetection(label: String, classId: Int, confidence: Double, x: Int, y: Int, width: Int, height: Int,
                             trackId: Int? = nil, predicted: Bool = false) -> Bool
    {
        cgst_buffer_add_detection(pointer, label, Int32(classId), confidence, Int32(clamping: trackId ?? 0),
                                  predicted ? 1 : 0, UInt32(max(0, x)), UInt32(max(0, y)),
                                  UInt32(max(0, width)), UInt32(max(0, height))) != nil
    }

    /// The ROI metas on this buffer, in order.
    public var regionsOfInterest: [RegionOfInterest] {
        var result: [RegionOfInterest] = []
        var state: gpointer? = nil
        let api = gst_video_region_of_interest_meta_api_get_type()
        while let meta = gst_buffer_iterate_meta_filtered(pointer, &state, api) {
            let roi = UnsafeMutableRawPointer(meta).assumingMemoryBound(to: GstVideoRegionOfInterestMeta.self)
            result.append(RegionOfInterest(roi, params: cgst_roi_detection_params(pointer, roi)))
        }
        return result
    }
}

/// A `GstVideoRegionOfInterestMeta` read back: box, type, and the `detection` params.
public struct RegionOfInterest: Equatable {
    public var type: String
    public var x: Int, y: Int, width: Int, height: Int
    public var label: String?
    public var classId: Int?
    public var confidence: Double?
    /// The tracker's id for the object, when tracked.
    public var trackId: Int?
    /// The tracker carried this box over a frame without inference.
    public var predicted: Bool

    public init(type: String, x: Int, y: Int, width: Int, height: Int, label: String? = nil, classId: Int? = nil,
                confidence: Double? = nil, trackId: Int? = nil, predicted: Bool = false) {
        self.type = type
        self.x = x; self.y = y; self.width = width; self.height = height
        self.label = label
        self.classId = classId
        self.confidence = confidence
        self.trackId = trackId
        self.predicted = predicted
    }

    init(_ meta: UnsafeMutablePointer<GstVideoRegionOfInterestMeta>, params: UnsafePointer<GstStructure>?) {
        let m = meta.pointee
        type = g_quark_to_string(m.roi_type).map { String(cString: $0) } ?? ""
        x = Int(m.x); y = Int(m.y); width = Int(m.w); height = Int(m.h)
        predicted = false
        if let params {
            label = gst_structure_get_string(params, "label").map { String(cString: $0) }
            var id: Int32 = 0
            if gst_structure_get_int(params, "class-id", &id) != 0 { classId = Int(id) }
            var c: Double = 0
            if gst_structure_get_double(params, "confidence", &c) != 0 { confidence = c }
            var track: Int32 = 0
            if gst_structure_get_int(params, "track-id", &track) != 0, track > 0 { trackId = Int(track) }
            var flag: gboolean = 0
            if gst_structure_get_boolean(params, "predicted", &flag) != 0 { predicted = flag != 0 }
        }
    }
}
