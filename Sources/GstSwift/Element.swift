import CGStreamer
import CGstGlue

/// The GStreamer element an implementation belongs to. It does not own the element (the
/// element owns the implementation).
public struct ElementRef: @unchecked Sendable {  // a GstElement pointer; the element outlives its implementation and locks itself
    public let pointer: UnsafeMutablePointer<GstElement>

    public init(_ pointer: UnsafeMutablePointer<GstElement>) { self.pointer = pointer }

    public var name: String {
        guard let raw = gst_object_get_name(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GstObject.self))
        else { return "?" }
        defer { g_free(raw) }
        return String(cString: raw)
    }

    public var object: UnsafeMutablePointer<GObject> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GObject.self)
    }

    public func post(_ error: ElementError, warning: Bool = false, file: String = #fileID, function: String = #function,
                     line: Int = #line) {
        cgst_element_post_error(pointer, warning ? 1 : 0, error.domain.quark, error.code, error.message, error.debug,
                                file, function, Int32(line))
    }

    /// Posts an element message `name` with `pts` and `json` fields.
    public func postJSONMessage(name: String, pts: UInt64?, json: String) {
        _ = cgst_post_json_message(pointer, name, pts.map { GstClockTime($0) } ?? cgst_clock_time_none(), json)
    }

    /// Emits the element's signal number `index` (as declared in its description) with
    /// `values`, whose GTypes must match the declaration.
    public func emit(_ index: Int, _ values: [(PropertyValue, SignalSpec.ValueType)]) {
        let params = UnsafeMutablePointer<GValue>.allocate(capacity: max(1, values.count))
        params.initialize(repeating: GValue(), count: max(1, values.count))
        defer {
            for i in 0..<values.count { g_value_unset(params + i) }
            params.deallocate()
        }
        for (i, (value, type)) in values.enumerated() {
            g_value_init(params + i, type.gtype)
            store(value, into: params + i)
        }
        cgst_element_emit(pointer, UInt32(index), params)
    }

    /// Whether signal number `index` has handlers connected.
    public func hasHandlers(_ index: Int) -> Bool { cgst_element_has_handlers(pointer, UInt32(index)) != 0 }

    /// Asks the encoder upstream for a key frame (an upstream force-key-unit event through
    /// the sink pad, with SPS/PPS). Safe from the streaming thread.
    public func requestKeyFrameUpstream() {
        guard let pad = gst_element_get_static_pad(pointer, "sink") else { return }
        defer { gst_object_unref(pad) }
        if let event = gst_video_event_new_upstream_force_key_unit(cgst_clock_time_none(), 1, 0) {
            _ = gst_pad_push_event(pad, event)
        }
    }

    /// Notifies listeners (`notify::NAME`) that a property changed.
    public func notify(_ property: String) { g_object_notify(object, property) }
}

/// Whether a buffer goes on, is dropped, or the stream stops with an error.
public enum FlowOutcome {
    case ok
    case dropped
    case flushing
    case eos

    var gstFlow: GstFlowReturn {
        switch self {
        case .ok: return GST_FLOW_OK
        // GST_BASE_TRANSFORM_FLOW_DROPPED is a macro for GST_FLOW_CUSTOM_SUCCESS.
        case .dropped: return GST_FLOW_CUSTOM_SUCCESS
        case .flushing: return GST_FLOW_FLUSHING
        case .eos: return GST_FLOW_EOS
        }
    }
}
