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

    /// Attaches a `GstVideoRegionOfInterestMeta` with the `detection` param structure.
    @discardableResult
    public func addDetection(label: String, classId: Int, confidence: Double, x: Int, y: Int, width: Int, height: Int)
        -> Bool
    {
        cgst_buffer_add_detection(pointer, label, Int32(classId), confidence, UInt32(max(0, x)), UInt32(max(0, y)),
                                  UInt32(max(0, width)), UInt32(max(0, height))) != nil
    }

    /// The ROI metas on this buffer, in order.
    public var regionsOfInterest: [RegionOfInterest] {
        var result: [RegionOfInterest] = []
        var state: gpointer? = nil
        let api = gst_video_region_of_interest_meta_api_get_type()
        while let meta = gst_buffer_iterate_meta_filtered(pointer, &state, api) {
            let roi = UnsafeMutableRawPointer(meta).assumingMemoryBound(to: GstVideoRegionOfInterestMeta.self)
            result.append(RegionOfInterest(roi))
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

    public init(type: String, x: Int, y: Int, width: Int, height: Int, label: String? = nil, classId: Int? = nil,
                confidence: Double? = nil) {
        self.type = type
        self.x = x; self.y = y; self.width = width; self.height = height
        self.label = label
        self.classId = classId
        self.confidence = confidence
    }

    init(_ meta: UnsafeMutablePointer<GstVideoRegionOfInterestMeta>) {
        let m = meta.pointee
        type = g_quark_to_string(m.roi_type).map { String(cString: $0) } ?? ""
        x = Int(m.x); y = Int(m.y); width = Int(m.w); height = Int(m.h)
        if let params = gst_video_region_of_interest_meta_get_param(meta, "detection") {
            label = gst_structure_get_string(params, "label").map { String(cString: $0) }
            var id: Int32 = 0
            if gst_structure_get_int(params, "class-id", &id) != 0 { classId = Int(id) }
            var c: Double = 0
            if gst_structure_get_double(params, "confidence", &c) != 0 { confidence = c }
        }
    }
}
