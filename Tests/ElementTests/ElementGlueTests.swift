import CGStreamer
import CGstCheck
import CGstGlue
import GstSwift
import Locking
import XCTest

/// A test-only transform: counts buffers, answers the `mark` action with the count, and
/// emits `passed` with each buffer's pts.
final class CountingTransform: TransformImpl {
    static let elementDescription = ElementDescription(
        typeName: "ChatCastTestCounting", elementName: "chatcasttestcounting", longName: "Counting", classification: "Testing",
        summary: "Counts buffers", author: "ChatCast", sinkCaps: "ANY", srcCaps: "ANY",
        properties: [PropertySpec("count", nick: "Count", blurb: "Buffers seen", .int(min: 0, max: .max, default: 0),
                                  mutability: .readOnly)],
        signals: [SignalSpec("mark", parameters: [.string], returns: .uint64, isAction: true),
                  SignalSpec("passed", parameters: [.uint64])])

    let element: ElementRef
    let count = Mutex(0)
    let marks = Mutex<[String]>([])

    init(element: ElementRef) { self.element = element }
    func setProperty(_ name: String, _ value: PropertyValue) {}
    func property(_ name: String) -> PropertyValue { .int(Int32(count.withLock { $0 })) }

    func action(_ signal: String, _ arguments: [PropertyValue]) -> PropertyValue? {
        if case let .string(text)? = arguments.first { marks.withLock { $0.append(text ?? "") } }
        return .uint64(UInt64(count.withLock { $0 }))
    }

    func transformInPlace(_ buffer: BufferRef) throws -> FlowOutcome {
        count.withLock { $0 += 1 }
        element.emit(1, [(.uint64(buffer.pts ?? 0), .uint64)])
        if buffer.pts == 3 { throw ElementError.failed("buffer 3 is refused") }
        return .ok
    }
}

/// A test-only sink that counts what it renders.
final class CountingSink: SinkImpl {
    static let elementDescription = ElementDescription(
        typeName: "ChatCastTestSink", elementName: "chatcasttestsink", longName: "Counting sink", classification: "Sink",
        summary: "Counts buffers", author: "ChatCast", sinkCaps: "ANY", srcCaps: nil,
        properties: [PropertySpec("count", nick: "Count", blurb: "Buffers rendered", .int(min: 0, max: .max, default: 0),
                                  mutability: .readOnly)])
    let count = Mutex(0)
    init(element: ElementRef) {}
    func setProperty(_ name: String, _ value: PropertyValue) {}
    func property(_ name: String) -> PropertyValue { .int(Int32(count.withLock { $0 })) }
    func render(_ buffer: BufferRef) throws -> FlowOutcome {
        count.withLock { $0 += 1 }
        return .ok
    }
}

nonisolated(unsafe) var passedPTS: [UInt64] = []

final class ElementGlueTests: XCTestCase {
    override class func setUp() {
        _ = GStreamerOnce.ready
        ElementRegistration.register(CountingTransform.self, plugin: nil)
        ElementRegistration.register(CountingSink.self, plugin: nil)
    }

    func testTransformSignalsAndErrorsThroughTheGlue() throws {
        let h = Harness("chatcasttestcounting")
        gst_harness_set_src_caps_str(h.pointer, "application/x-test")
        let object = UnsafeMutableRawPointer(h.element).assumingMemoryBound(to: GObject.self)
        passedPTS = []
        let handler: @convention(c) (UnsafeMutableRawPointer?, UInt64, UnsafeMutableRawPointer?) -> Void = { _, pts, _ in
            passedPTS.append(pts)
        }
        g_signal_connect_data(object, "passed", unsafeBitCast(handler, to: GCallback.self), nil, nil, GConnectFlags(rawValue: 0))
        for pts in 0..<3 {
            let buffer = gst_harness_create_buffer(h.pointer, 4)!
            cgst_buffer_set_pts(buffer, GstClockTime(pts))
            XCTAssertEqual(gst_harness_push(h.pointer, buffer), GST_FLOW_OK)
            gst_buffer_unref(gst_harness_pull(h.pointer))
        }
        XCTAssertEqual(passedPTS, [0, 1, 2])
        XCTAssertEqual(h.get("count"), "3")

        // The action signal reaches the element and returns its answer.
        var params = [GValue](repeating: GValue(), count: 2)
        g_value_init(&params[0], G_OBJECT_TYPE_compat(object))
        g_value_set_object(&params[0], object)
        g_value_init(&params[1], cgst_type_string())
        g_value_set_string(&params[1], "hello")
        var result = GValue()
        g_value_init(&result, cgst_type_uint64())
        g_signal_emitv(&params, g_signal_lookup("mark", G_OBJECT_TYPE_compat(object)), 0, &result)
        XCTAssertEqual(g_value_get_uint64(&result), 3)
        g_value_unset(&params[0]); g_value_unset(&params[1]); g_value_unset(&result)

        // A thrown ElementError becomes GST_FLOW_ERROR and an element error.
        let bad = gst_harness_create_buffer(h.pointer, 4)!
        cgst_buffer_set_pts(bad, 3)
        XCTAssertEqual(gst_harness_push(h.pointer, bad), GST_FLOW_ERROR)
        XCTAssertEqual(h.errorMessage(), "buffer 3 is refused")
    }

    func testSinkRendersEveryBuffer() throws {
        let (pipeline, ended) = playInProcess("videotestsrc num-buffers=7 ! chatcasttestsink name=s", seconds: 10)
        defer { gst_object_unref(pipeline) }
        XCTAssertEqual(ended, GST_MESSAGE_EOS)
        let bin = UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self)
        let sink = gst_bin_get_by_name(bin, "s")!
        var value = GValue()
        g_value_init(&value, cgst_type_int())
        g_object_get_property(UnsafeMutableRawPointer(sink).assumingMemoryBound(to: GObject.self), "count", &value)
        XCTAssertEqual(g_value_get_int(&value), 7)
        gst_object_unref(sink)
        gst_element_set_state(pipeline, GST_STATE_NULL)
    }
}

/// G_OBJECT_TYPE is a macro.
func G_OBJECT_TYPE_compat(_ object: UnsafeMutablePointer<GObject>) -> GType {
    object.pointee.g_type_instance.g_class.pointee.g_type
}
