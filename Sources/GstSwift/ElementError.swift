import CGStreamer

/// An error an element reports: it becomes a GStreamer element error (and the failing
/// vfunc returns FALSE or GST_FLOW_ERROR) at the trampoline, never a trap.
public struct ElementError: Error, CustomStringConvertible {
    public enum Domain: Sendable {
        case core, library, resource, stream

        var quark: GQuark {
            switch self {
            case .core: return gst_core_error_quark()
            case .library: return gst_library_error_quark()
            case .resource: return gst_resource_error_quark()
            case .stream: return gst_stream_error_quark()
            }
        }
    }

    public let domain: Domain
    public let code: Int32
    /// What a user reads: names the file or setting, the cause, and what to do.
    public let message: String
    public let debug: String?

    public init(_ domain: Domain, code: Int32, _ message: String, debug: String? = nil) {
        self.domain = domain
        self.code = code
        self.message = message
        self.debug = debug
    }

    public static func resourceNotFound(_ message: String) -> ElementError {
        ElementError(.resource, code: Int32(GST_RESOURCE_ERROR_NOT_FOUND.rawValue), message)
    }
    public static func resourceRead(_ message: String) -> ElementError {
        ElementError(.resource, code: Int32(GST_RESOURCE_ERROR_OPEN_READ.rawValue), message)
    }
    public static func settings(_ message: String) -> ElementError {
        ElementError(.resource, code: Int32(GST_RESOURCE_ERROR_SETTINGS.rawValue), message)
    }
    public static func library(_ message: String) -> ElementError {
        ElementError(.library, code: Int32(GST_LIBRARY_ERROR_FAILED.rawValue), message)
    }
    public static func format(_ message: String) -> ElementError {
        ElementError(.stream, code: Int32(GST_STREAM_ERROR_FORMAT.rawValue), message)
    }
    public static func failed(_ message: String) -> ElementError {
        ElementError(.stream, code: Int32(GST_STREAM_ERROR_FAILED.rawValue), message)
    }

    public var description: String { message }
}
