import CGStreamer
import CPangoCairo
import ChatCastSEI
import GstSwift
import Locking

/// `chatoverlay`: draws the last chat lines (`nick: text`) bottom-left, white with a black
/// outline so they read on any picture; lines age out after `duration` seconds of stream
/// time. Chat text is set as plain text: a `<span size="400000">` shows as those characters.
final class ChatOverlay: VideoFilterImpl {
    static let elementDescription = ElementDescription(
        typeName: "GstChatOverlay", elementName: "chatoverlay", longName: "Chat overlay",
        classification: "Filter/Editor/Video", summary: "Draws the last chat lines from chat metas", author: "ChatCast",
        sinkCaps: CairoFrame.caps, srcCaps: CairoFrame.caps,
        properties: table.specs)

    static let log = DebugCategory(name: "chatoverlay", description: "Chat overlay")

    static let table = PropertyTable<Settings>([
        .int(PropertySpec("lines", nick: "Lines", blurb: "Most chat lines shown", .int(min: 1, max: 50, default: 5),
                          mutability: .playing), \.lines),
        .double(PropertySpec("duration", nick: "Duration", blurb: "Seconds a line stays on screen",
                             .double(min: 0.1, max: 3600, default: 10), mutability: .playing), \.duration),
    ])

    struct Settings { var lines = 5; var duration = 10.0 }
    struct Line { var id: String; var text: String; var since: UInt64 }

    private let settings = Mutex(Settings())
    private let shown = Mutex<[Line]>([])

    private let element: ElementRef

    init(element: ElementRef) { self.element = element }

    func setProperty(_ name: String, _ value: PropertyValue) {
        ChatOverlay.table.set(name, value, in: settings, element: element, log: ChatOverlay.log)
    }

    func property(_ name: String) -> PropertyValue {
        ChatOverlay.table.get(name, in: settings)
    }

    func stop() throws { shown.withLock { $0 = [] } }

    func transformFrameInPlace(_ frame: VideoFrameRef) throws -> FlowOutcome {
        let s = settings.withLock { $0 }
        let now = frame.buffer.pts ?? 0
        let lines = shown.withLock { shown -> [Line] in
            for m in frame.buffer.chatMessages where !shown.contains(where: { $0.id == m.id }) {
                shown.append(Line(id: m.id, text: "\(m.nick): \(m.text)", since: now))
            }
            let maxAge = UInt64(s.duration * 1e9)
            shown.removeAll { now > $0.since && now - $0.since > maxAge }
            shown = Array(shown.suffix(s.lines))
            return shown
        }
        guard !lines.isEmpty else { return .ok }
        draw(lines.map(\.text), on: frame)
        return .ok
    }

    private func draw(_ texts: [String], on frame: VideoFrameRef) {
        CairoFrame.draw(on: frame) { cr, layout in
            CairoFrame.setFont(layout, pixels: frame.height / 30)
            // Long lines wrap at the frame's width instead of running off it.
            pango_layout_set_width(layout, Int32(max(1, frame.width - 20)) * PANGO_SCALE)
            pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
            var y = Double(frame.height) - 8
            for text in texts.reversed() {
                pango_layout_set_text(layout, text, -1)
                var width: Int32 = 0, height: Int32 = 0
                pango_layout_get_pixel_size(layout, &width, &height)
                y -= Double(height)
                guard y >= 0 else { break }
                cairo_move_to(cr, 10, y)
                pango_cairo_layout_path(cr, layout)
                cairo_set_source_rgb(cr, 0, 0, 0)
                cairo_set_line_width(cr, max(2, Double(frame.height) / 160))
                cairo_stroke_preserve(cr)
                cairo_set_source_rgb(cr, 1, 1, 1)
                cairo_fill(cr)
            }
        }
    }
}
