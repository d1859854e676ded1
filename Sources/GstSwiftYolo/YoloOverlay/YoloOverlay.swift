import CGStreamer
import CPangoCairo
import GstSwift
import Locking

/// `yolooverlay`: draws each ROI meta's box with its track id, label and confidence, one
/// stable colour per track (per class when untracked), with Cairo and Pango (plain text:
/// labels are never markup).
final class YoloOverlay: VideoFilterImpl {
    static let elementDescription = ElementDescription(
        typeName: "GstYoloOverlay", elementName: "yolooverlay", longName: "Detection overlay",
        classification: "Filter/Editor/Video", summary: "Draws detection boxes, track ids, labels and confidences from ROI metas",
        author: "ChatCast", sinkCaps: CairoFrame.caps, srcCaps: CairoFrame.caps,
        properties: table.specs)

    static let log = DebugCategory(name: "yolooverlay", description: "Detection overlay")

    static let table = PropertyTable<Settings>([
        .bool(PropertySpec("show-confidence", nick: "Show confidence", blurb: "Write the confidence after the label",
                           .bool(default: true), mutability: .playing), \.showConfidence),
    ])

    struct Settings { var showConfidence = true }

    private let element: ElementRef
    private let settings = Mutex(Settings())

    init(element: ElementRef) { self.element = element }

    func setProperty(_ name: String, _ value: PropertyValue) {
        YoloOverlay.table.set(name, value, in: settings, element: element, log: YoloOverlay.log)
    }

    func property(_ name: String) -> PropertyValue {
        YoloOverlay.table.get(name, in: settings)
    }

    /// A bright colour per class or track id (golden-ratio hue steps), the same in every frame.
    static func colour(forClass id: Int) -> (r: Double, g: Double, b: Double) {
        let hue = (Double(id) * 0.618_033_988_75 + 0.12).truncatingRemainder(dividingBy: 1)
        let h = hue * 6, x = 1 - abs(h.truncatingRemainder(dividingBy: 2) - 1)
        switch Int(h) {
        case 0: return (1, x, 0)
        case 1: return (x, 1, 0)
        case 2: return (0, 1, x)
        case 3: return (0, x, 1)
        case 4: return (x, 0, 1)
        default: return (1, 0, x)
        }
    }

    /// Black text on a light tab, white on a dark one (blue and purple hues), so every label
    /// reads; the weights are the luma of sRGB primaries.
    static func textColour(on c: (r: Double, g: Double, b: Double)) -> Double {
        0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b < 0.45 ? 1 : 0
    }

    func transformFrameInPlace(_ frame: VideoFrameRef) throws -> FlowOutcome {
        let regions = frame.buffer.regionsOfInterest
        guard !regions.isEmpty else { return .ok }
        let withConfidence = settings.withLock { $0.showConfidence }
        CairoFrame.draw(on: frame) { cr, layout in
            CairoFrame.setFont(layout, pixels: frame.height / 40)
            let lineWidth = max(2.0, Double(frame.height) / 240)
            for r in regions {
                // Tracked objects keep one colour each, so two balls are told apart.
                let c = r.trackId.map(YoloOverlay.colour(forClass:)) ?? YoloOverlay.colour(forClass: r.classId ?? 0)
                cairo_set_source_rgb(cr, c.r, c.g, c.b)
                cairo_set_line_width(cr, lineWidth)
                cairo_rectangle(cr, Double(r.x) + lineWidth / 2, Double(r.y) + lineWidth / 2,
                                max(0, Double(r.width) - lineWidth), max(0, Double(r.height) - lineWidth))
                cairo_stroke(cr)
                var text = r.label ?? r.type
                if let id = r.trackId { text = "#\(id) " + text }
                if withConfidence, let confidence = r.confidence { text += " \(Int((confidence * 100).rounded()))%" }
                // Plain text: pango_layout_set_text never parses markup.
                pango_layout_set_text(layout, text, -1)
                var width: Int32 = 0, height: Int32 = 0
                pango_layout_get_pixel_size(layout, &width, &height)
                let labelY = r.y >= Int(height) ? Double(r.y) - Double(height) : Double(r.y)
                cairo_rectangle(cr, Double(r.x), labelY, Double(width) + 6, Double(height))
                cairo_fill(cr)
                let ink = YoloOverlay.textColour(on: c)
                cairo_set_source_rgb(cr, ink, ink, ink)
                cairo_move_to(cr, Double(r.x) + 3, labelY)
                pango_cairo_show_layout(cr, layout)
            }
        }
        return .ok
    }
}
