import CGStreamer
import Foundation

/// The display a viewer's window goes to (`play`, `demo`), opened before the pipeline.
///
/// autovideosink opens and closes the X display for every sink it tries, then opens it
/// again for the one it keeps. A display with no other client — Xvfb under `xvfb-run`, a
/// kiosk without a window manager — resets when its last client leaves and refuses
/// connections meanwhile, so the viewer failed with "Could not initialise X output" (4 times
/// in 6 on a busy machine). Holding one connection open for the whole run (an idle
/// ximagesink in READY) keeps the server from resetting under the viewer.
final class WindowDisplay {
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Sinks that draw on the console rather than in a window: autovideosink tries them
    /// whenever a window sink above them fails (Xvfb and many desktops lack XVideo, so
    /// xvimagesink fails), and they are never what a window viewer wants: kmssink (same rank
    /// as ximagesink, tried first by name) spends over a second probing DRM devices or takes
    /// over a console, and DirectFB's sink crashes the process when it cannot open a
    /// framebuffer of its own.
    static let consoleSinks = ["kmssink", "dfbvideosink", "fbdevsink"]

    private var hold: UnsafeMutablePointer<GstElement>?

    /// Opens the display named by DISPLAY (or trusts WAYLAND_DISPLAY); throws when there is
    /// none or it cannot be opened, so the caller can print JSON lines instead.
    init() throws {
        let env = ProcessInfo.processInfo.environment
        let x11 = env["DISPLAY"] ?? ""
        let wayland = env["WAYLAND_DISPLAY"] ?? ""
        if x11.isEmpty && wayland.isEmpty { throw Unavailable(description: "no display (DISPLAY and WAYLAND_DISPLAY are unset)") }
        gst_init(nil, nil)
        Self.passOverConsoleSinks()
        guard !x11.isEmpty, let factory = gst_element_factory_find("ximagesink") else { return }
        gst_object_unref(UnsafeMutableRawPointer(factory))
        // A server in the middle of a reset refuses for a moment: retry for up to 2 s.
        for attempt in 0..<20 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.1) }
            if let element = Self.openedSink() {
                hold = element
                return
            }
        }
        if wayland.isEmpty { throw Unavailable(description: "cannot open the X display \(x11)") }
    }

    deinit {
        guard let hold else { return }
        gst_element_set_state(hold, GST_STATE_NULL)
        gst_object_unref(UnsafeMutableRawPointer(hold))
    }

    /// An ximagesink in READY: it holds a connection to the display.
    private static func openedSink() -> UnsafeMutablePointer<GstElement>? {
        guard let element = gst_element_factory_make("ximagesink", "display-hold") else { return nil }
        gst_object_ref_sink(UnsafeMutableRawPointer(element))
        if gst_element_set_state(element, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS { return element }
        gst_element_set_state(element, GST_STATE_NULL)
        gst_object_unref(UnsafeMutableRawPointer(element))
        return nil
    }

    private static func passOverConsoleSinks() {
        for name in consoleSinks {
            guard let feature = gst_registry_lookup_feature(gst_registry_get(), name) else { continue }
            gst_plugin_feature_set_rank(feature, guint(GST_RANK_NONE.rawValue))
            gst_object_unref(UnsafeMutableRawPointer(feature))
        }
    }
}
