import CGStreamer
import CGstGlue

/// A mapped GstVideoFrame for the duration of one transform call.
public struct VideoFrameRef {
    public let pointer: UnsafeMutablePointer<GstVideoFrame>

    public init(_ pointer: UnsafeMutablePointer<GstVideoFrame>) { self.pointer = pointer }

    public var width: Int { Int(cgst_video_frame_width(pointer)) }
    public var height: Int { Int(cgst_video_frame_height(pointer)) }
    public var format: GstVideoFormat { cgst_video_frame_format(pointer) }
    /// The caps name of the format (`NV12`, `RGBx`…).
    public var formatName: String { String(cString: gst_video_format_to_string(format)) }
    public var buffer: BufferRef { BufferRef(cgst_video_frame_buffer(pointer)) }

    public func plane(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        cgst_video_frame_plane(pointer, UInt32(index))
    }

    public func stride(_ index: Int) -> Int { Int(cgst_video_frame_stride(pointer, UInt32(index))) }

}

/// Negotiated video caps.
public struct VideoInfoRef {
    public let pointer: UnsafeMutablePointer<GstVideoInfo>

    public init(_ pointer: UnsafeMutablePointer<GstVideoInfo>) { self.pointer = pointer }

    public var width: Int { Int(cgst_video_info_width(pointer)) }
    public var height: Int { Int(cgst_video_info_height(pointer)) }
    public var formatName: String { String(cString: gst_video_format_to_string(cgst_video_info_format(pointer))) }
    /// Frames per second; 0 when the caps say 0/1 (variable or unknown).
    public var frameRate: Double {
        let n = pointer.pointee.fps_n, d = pointer.pointee.fps_d
        return n > 0 && d > 0 ? Double(n) / Double(d) : 0
    }

    /// The colour matrix as (Kr, Kb) and whether the range is full, for YUV formats.
    public var colorMatrix: (kr: Double, kb: Double, fullRange: Bool)? {
        let colorimetry = pointer.pointee.colorimetry
        var kr: Double = 0, kb: Double = 0
        guard gst_video_color_matrix_get_Kr_Kb(colorimetry.matrix, &kr, &kb) != 0 else { return nil }
        return (kr, kb, colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255)
    }
}
