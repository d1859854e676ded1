import CGStreamer
import CGstCheck
import CGstGlue
import Foundation
import GstSwift
import XCTest

/// What every element of ours owes its users, whatever it does: properties that read back
/// what was set, start-only settings refused while running, probes that stay quiet, and
/// async work drained at EOS.
final class ElementContractTests: XCTestCase {
    static let factories = ["swiftyolo", "yolooverlay", "chatinject", "chatparse", "chatsink", "chatoverlay"]

    /// A different valid value for each writable property: a setter that forgets a name
    /// (and silently does nothing) fails here.
    func testEveryWritablePropertyReadsBackWhatWasSet() {
        _ = GStreamerOnce.ready
        for factory in Self.factories {
            let element = gst_element_factory_make(factory, nil)!
            let object = UnsafeMutableRawPointer(element).assumingMemoryBound(to: GObject.self)
            defer { gst_object_unref(element) }
            var count: UInt32 = 0
            let specs = g_object_class_list_properties(
                UnsafeMutableRawPointer(element.pointee.object.object.g_type_instance.g_class).assumingMemoryBound(to: GObjectClass.self),
                &count)!
            defer { g_free(specs) }
            var checked = 0
            for i in 0..<Int(count) {
                let spec = specs[i]!
                let name = String(cString: g_param_spec_get_name(spec))
                let ours = spec.pointee.owner_type == G_OBJECT_TYPE_compat(object)
                guard ours, spec.pointee.flags.rawValue & 2 != 0 else { continue }
                var value = GValue()
                g_value_init(&value, spec.pointee.value_type)
                defer { g_value_unset(&value) }
                guard otherValue(spec, into: &value) else { continue }
                g_object_set_property(object, name, &value)
                var back = GValue()
                g_value_init(&back, spec.pointee.value_type)
                defer { g_value_unset(&back) }
                g_object_get_property(object, name, &back)
                XCTAssertEqual(g_param_values_cmp(spec, &value, &back), 0,
                               "\(factory).\(name): set \(serialize(&value)), read \(serialize(&back))")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 0, factory)
        }
    }

    /// A value unlike the default and inside the range; false for types not covered.
    private func otherValue(_ spec: UnsafeMutablePointer<GParamSpec>, into value: inout GValue) -> Bool {
        g_param_value_set_default(spec, &value)
        let text = serialize(&value)
        let type = spec.pointee.value_type
        if type == cgst_type_boolean() { g_value_set_boolean(&value, g_value_get_boolean(&value) == 0 ? 1 : 0); return true }
        if type == cgst_type_int() {
            let p = UnsafeMutableRawPointer(spec).assumingMemoryBound(to: GParamSpecInt.self).pointee
            g_value_set_int(&value, p.default_value < p.maximum ? p.default_value + 1 : p.minimum)
            return true
        }
        if type == cgst_type_uint() {
            let p = UnsafeMutableRawPointer(spec).assumingMemoryBound(to: GParamSpecUInt.self).pointee
            g_value_set_uint(&value, p.default_value < p.maximum ? p.default_value + 1 : p.minimum)
            return true
        }
        if type == cgst_type_double() {
            let p = UnsafeMutableRawPointer(spec).assumingMemoryBound(to: GParamSpecDouble.self).pointee
            g_value_set_double(&value, p.default_value < p.maximum ? (p.default_value + min(p.maximum, p.default_value + 1)) / 2 : p.minimum)
            return true
        }
        if type == cgst_type_string() { g_value_set_string(&value, text == "NULL" ? "/tmp/chatcast-x" : text + "x"); return true }
        if g_type_is_a(type, GType(12 << 2)) != 0 {
            let enumClass = g_type_class_ref(type)!.assumingMemoryBound(to: GEnumClass.self)
            defer { g_type_class_unref(enumClass) }
            let values = enumClass.pointee.values!
            let current = g_value_get_enum(&value)
            for k in 0..<Int(enumClass.pointee.n_values) where values[k].value != current {
                g_value_set_enum(&value, values[k].value)
                return true
            }
        }
        return false
    }

    private func serialize(_ value: inout GValue) -> String {
        guard let text = gst_value_serialize(&value) else { return "NULL" }
        defer { g_free(text) }
        return String(cString: text)
    }

    /// Properties declared with the field they bind: unknown names and wrong value types are
    /// refused, never silently dropped.
    func testAPropertyTableRefusesWhatItDoesNotDeclare() {
        struct Settings { var count = 1; var name: String? = nil }
        let table = PropertyTable<Settings>([
            .int(PropertySpec("count", nick: "Count", blurb: "", .int(min: 0, max: 9, default: 1)), \.count),
            .string(PropertySpec("name", nick: "Name", blurb: "", .string(default: nil)), \.name),
        ])
        var s = Settings()
        XCTAssertTrue(table.set("count", .int(7), on: &s))
        XCTAssertEqual(table.get("count", from: s), .int(7))
        XCTAssertFalse(table.set("count", .string("7"), on: &s), "wrong type")
        XCTAssertFalse(table.set("colour", .int(1), on: &s), "undeclared name")
        XCTAssertNil(table.get("colour", from: s))
        XCTAssertTrue(table.set("name", .string(""), on: &s))
        XCTAssertEqual(table.get("name", from: s), .string(nil), "empty means unset")
        XCTAssertEqual(table.specs.map(\.name), ["count", "name"])
    }

    func testStartOnlyPropertiesAreRefusedWhilePlaying() {
        let h = Harness("swiftyolo", properties: ["threads": 1])
        h.addSource("videotestsrc ! capsfilter caps=\"video/x-raw,format=NV12,width=160,height=120,framerate=30/1\"")
        if let b = h.pushAndPull() { gst_buffer_unref(b) }
        h.set("model", "/elsewhere/model.torchscript")
        h.set("threads", 2)
        let warning = h.warningMessage() ?? ""
        XCTAssertTrue(warning.contains("property 'model' applies only when the element starts"), warning)
        XCTAssertTrue(["NULL", ""].contains(h.get("model")), "the model in use is still the default: \(h.get("model"))")
        XCTAssertEqual(h.get("threads"), "1")
        h.set("conf-threshold", 0.6)
        XCTAssertEqual(Double(h.get("conf-threshold")) ?? 0, 0.6, accuracy: 1e-9, "playing-time settings still apply")
    }

    /// Autoplugging asks many elements whether they take some caps: a "no" is an answer,
    /// not an error on the bus. Caps that really arrive and are refused still are one.
    func testAcceptCapsProbesPostNoError() {
        let h = Harness("swiftyolo")
        let caps = gst_caps_from_string("video/x-raw,format=YUY2,width=64,height=64,framerate=30/1")!
        defer { gst_caps_unref(caps) }
        let pad = gst_element_get_static_pad(h.element, "sink")!
        defer { gst_object_unref(pad) }
        XCTAssertEqual(gst_pad_query_accept_caps(pad, caps), 0)
        XCTAssertNil(h.errorMessage())
        gst_harness_set_src_caps(h.pointer, gst_caps_ref(caps))
        XCTAssertTrue(h.errorMessage()?.contains("cannot take video format YUY2") ?? false)
    }

    /// At EOS an async element waits for the job in flight, so its result and statistics
    /// are in before EOS reaches the sink.
    func testAsyncEOSDrainsTheJobInFlight() {
        let h = Harness("swiftyolo", properties: ["mode": "async", "model": Paths.fixtures + "/slow-ball.torchscript"])
        h.addSource("videotestsrc pattern=ball ! capsfilter caps=\"video/x-raw,format=NV12,width=320,height=240,framerate=30/1\"")
        if let b = h.pushAndPull() { gst_buffer_unref(b) }
        XCTAssertTrue(gst_harness_push_event(h.pointer, gst_event_new_eos()) != 0)
        XCTAssertTrue(h.get("stats").contains("inferences=(guint64)1"), h.get("stats"))
    }

    /// With a model far slower than the source, async output keeps every frame and few of
    /// them were inferred; a frame that waited on inference would make the two counts equal.
    func testAsyncOnALiveSourceNeverWaitsForASlowModel() throws {
        let (pipeline, ended) = playInProcess(
            "videotestsrc is-live=true pattern=ball num-buffers=45 ! video/x-raw,width=320,height=240,framerate=30/1 "
                + "! swiftyolo name=y mode=async tracker=bytetrack model=\(Paths.fixtures)/slow-ball.torchscript ! fakesink sync=true")
        defer { gst_object_unref(pipeline) }
        XCTAssertEqual(ended, GST_MESSAGE_EOS)
        let bin = UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self)
        let yolo = gst_bin_get_by_name(bin, "y")!
        defer { gst_object_unref(yolo) }
        var value = GValue()
        g_value_init(&value, cgst_type_structure())
        g_object_get_property(UnsafeMutableRawPointer(yolo).assumingMemoryBound(to: GObject.self), "stats", &value)
        let stats = UnsafePointer(g_value_get_boxed(&value)!.assumingMemoryBound(to: GstStructure.self))
        var frames: guint64 = 0, inferences: guint64 = 0
        gst_structure_get_uint64(stats, "frames", &frames)
        gst_structure_get_uint64(stats, "inferences", &inferences)
        g_value_unset(&value)
        gst_element_set_state(pipeline, GST_STATE_NULL)
        XCTAssertEqual(frames, 45)
        XCTAssertGreaterThan(inferences, 0)
        XCTAssertLessThan(inferences, 23, "frames waited on a slow model: \(inferences) inferences for 45 frames")
    }

    /// A LATENCY query (applications and the pipeline's clock selection ask it from other
    /// threads) is answered from what start() loaded, not behind the frame in a forward: with
    /// a model that takes 0.2–1 s a forward, each answer still comes at once, and says it.
    func testALatencyQueryDoesNotWaitForTheForwardInFlight() throws {
        _ = GStreamerOnce.ready
        var error: UnsafeMutablePointer<GError>? = nil
        let pipeline = gst_parse_launch("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
                                        + "! swiftyolo name=y model=\(Paths.fixtures)/slow-ball.torchscript ! fakesink sync=false", &error)!
        XCTAssertNil(error)
        defer {
            gst_element_set_state(pipeline, GST_STATE_NULL)
            gst_object_unref(pipeline)
        }
        gst_element_set_state(pipeline, GST_STATE_PLAYING)
        let bin = UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self)
        let yolo = gst_bin_get_by_name(bin, "y")!
        defer { gst_object_unref(yolo) }
        let source = gst_element_get_static_pad(yolo, "src")!
        defer { gst_object_unref(source) }
        // Frames are going through (the streaming thread is in a forward most of the time).
        let started = Date()
        while !Harness.stats(of: yolo).contains("inferences=(guint64)2") && Date().timeIntervalSince(started) < 60 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        var slowest = 0.0, lowest: GstClockTime = 0
        for _ in 0..<20 {
            let query = gst_query_new_latency()!
            let t0 = Date()
            XCTAssertNotEqual(gst_pad_query(source, query), 0)
            slowest = max(slowest, Date().timeIntervalSince(t0))
            var live: gboolean = 0, high: GstClockTime = 0
            gst_query_parse_latency(query, &live, &lowest, &high)
            gst_mini_object_unref(UnsafeMutableRawPointer(query).assumingMemoryBound(to: GstMiniObject.self))
            Thread.sleep(forTimeInterval: 0.03)
        }
        XCTAssertLessThan(slowest, 0.1, "a LATENCY query waited \(slowest) s")
        XCTAssertGreaterThan(lowest, 100_000_000, "the answer counts the model's forward: \(lowest) ns")
    }
}
