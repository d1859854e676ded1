import CGStreamer
import CGstGlue

/// A GStreamer debug category (`GST_DEBUG=swiftyolo:5`). Messages are built only when the
/// level is enabled.
public final class DebugCategory: @unchecked Sendable {  // a GstDebugCategory, which GStreamer reads and logs to from any thread
    public let pointer: UnsafeMutablePointer<GstDebugCategory>

    public init(name: String, description: String) {
        pointer = _gst_debug_category_new(name, 0, description)
    }

    public func log(_ level: GstDebugLevel, _ element: ElementRef?, _ message: @autoclosure () -> String,
                    file: String = #fileID, function: String = #function, line: Int = #line) {
        guard cgst_debug_enabled(pointer, level) != 0 else { return }
        gst_debug_log_literal(pointer, level, file, function, Int32(line), element?.object, message())
    }

    public func error(_ element: ElementRef?, _ m: @autoclosure () -> String, file: String = #fileID, line: Int = #line) {
        log(GST_LEVEL_ERROR, element, m(), file: file, line: line)
    }
    public func warning(_ element: ElementRef?, _ m: @autoclosure () -> String, file: String = #fileID, line: Int = #line) {
        log(GST_LEVEL_WARNING, element, m(), file: file, line: line)
    }
    public func info(_ element: ElementRef?, _ m: @autoclosure () -> String, file: String = #fileID, line: Int = #line) {
        log(GST_LEVEL_INFO, element, m(), file: file, line: line)
    }
    public func debug(_ element: ElementRef?, _ m: @autoclosure () -> String, file: String = #fileID, line: Int = #line) {
        log(GST_LEVEL_DEBUG, element, m(), file: file, line: line)
    }
}
