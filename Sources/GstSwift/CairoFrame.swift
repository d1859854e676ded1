import CGStreamer
import CPangoCairo

/// Drawing straight on a mapped frame with Cairo, for the overlays. Cairo's RGB24 and
/// ARGB32 are BGRx and BGRA in memory on little-endian machines, so those are the formats.
public enum CairoFrame {
    public static let caps = "video/x-raw, format=(string){ BGRx, BGRA }, width=(int)[ 1, 32767 ], "
        + "height=(int)[ 1, 32767 ], framerate=(fraction)[ 0/1, 2147483647/1 ]"

    /// Runs `body` with a Cairo context and a Pango layout on the frame's pixels.
    public static func draw(on frame: VideoFrameRef, _ body: (_ cairo: OpaquePointer, _ layout: OpaquePointer) -> Void) {
        let format = frame.formatName == "BGRA" ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24
        let surface = cairo_image_surface_create_for_data(frame.plane(0), format, Int32(frame.width), Int32(frame.height),
                                                          Int32(frame.stride(0)))
        let cr = cairo_create(surface)!
        let layout = pango_cairo_create_layout(cr)!
        defer {
            g_object_unref(UnsafeMutableRawPointer(layout))
            cairo_destroy(cr)
            cairo_surface_flush(surface)
            cairo_surface_destroy(surface)
        }
        body(cr, layout)
    }

    /// Sets a bold sans font of `pixels` size on the layout.
    public static func setFont(_ layout: OpaquePointer, pixels: Int) {
        let font = pango_font_description_from_string("Sans Bold \(max(8, pixels))")
        pango_layout_set_font_description(layout, font)
        pango_font_description_free(font)
    }
}
