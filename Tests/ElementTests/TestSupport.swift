import CGStreamer
import CGstCheck
import CGstGlue
import Foundation
import ProcessSupport
import GstChatSink
import GstSwiftYolo
import XCTest

/// Paths of the checkout and of what `make plugins` and the fixture script produce.
enum Paths {
    static let repo: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The staged plugins; a sanitizer run (scripts/tsan.sh) stages its own and says where.
    static let plugins = ProcessInfo.processInfo.environment["CHATCAST_PLUGINS"]
        ?? repo.appendingPathComponent("build/gst-plugins").path
    static let defaultModel = repo.appendingPathComponent("models/ball-yolov8.torchscript").path
    static let fixtures = ProcessInfo.processInfo.environment["CHATCAST_FIXTURES"]
        ?? repo.appendingPathComponent("build/test-fixtures").path
    static let shared = repo.deletingLastPathComponent().appendingPathComponent("shared")
    static let sharedModels = shared.appendingPathComponent("models").path

    /// A file from ../shared/models, or nil with the reason to skip.
    static func sharedModel(_ name: String) throws -> String {
        let path = sharedModels + "/" + name
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XCTSkip("../shared/models/\(name) is absent: real-model test skipped")
        }
        return path
    }
}

/// Initialises GStreamer in this process once, with our elements registered statically and
/// no plugin path (the staged plugin would register the same names again).
enum GStreamerOnce {
    static let ready: Void = {
        setenv("GST_PLUGIN_PATH", "", 1)
        setenv("GST_REGISTRY", NSTemporaryDirectory() + "chatcast-test-registry-\(getpid()).bin", 1)
        gst_init(nil, nil)
        SwiftYoloPlugin.registerStatically()
        ChatSinkPlugin.registerStatically()
    }()
}

/// A gst-check harness around one element, fed by a videotestsrc of the given caps.
final class Harness {
    let pointer: UnsafeMutablePointer<GstHarness>
    let bus: UnsafeMutablePointer<GstBus>

    /// Properties are set before the harness starts the element (models load in start()).
    init(_ factory: String, properties: [String: Any] = [:]) {
        _ = GStreamerOnce.ready
        let element = gst_element_factory_make(factory, nil)!
        for (name, value) in properties { Harness.set(element, name, value) }
        bus = gst_bus_new()
        gst_element_set_bus(element, bus)
        pointer = gst_harness_new_with_element(UnsafeMutableRawPointer(element).assumingMemoryBound(to: GstElement.self),
                                               "sink", "src")
    }

    deinit {
        gst_harness_teardown(pointer)
        gst_object_unref(bus)
    }

    var element: UnsafeMutablePointer<GstElement> { pointer.pointee.element }

    func set(_ name: String, _ value: Any) { Harness.set(element, name, value) }

    static func set(_ element: UnsafeMutablePointer<GstElement>, _ name: String, _ value: Any) {
        var v = GValue()
        switch value {
        case let s as String:
            // Enums are set from their nick, as gst-launch does.
            let pspec = g_object_class_find_property(
                UnsafeMutableRawPointer(element.pointee.object.object.g_type_instance.g_class).assumingMemoryBound(to: GObjectClass.self), name)!
            g_value_init(&v, pspec.pointee.value_type)
            if gst_value_deserialize(&v, s) == 0 { XCTFail("cannot set \(name)=\(s)") }
        case let b as Bool:
            g_value_init(&v, GType(5 << 2)); g_value_set_boolean(&v, b ? 1 : 0)
        case let i as Int:
            g_value_init(&v, GType(6 << 2)); g_value_set_int(&v, Int32(i))
        case let d as Double:
            g_value_init(&v, GType(15 << 2)); g_value_set_double(&v, d)
        default:
            XCTFail("unsupported property type for \(name)")
            return
        }
        g_object_set_property(UnsafeMutableRawPointer(element).assumingMemoryBound(to: GObject.self), name, &v)
        g_value_unset(&v)
    }

    /// A property as GStreamer serialises it (structures print as text).
    func get(_ name: String) -> String { Harness.get(element, name) }

    /// swiftyolo's `stats` of an element anywhere.
    static func stats(of element: UnsafeMutablePointer<GstElement>) -> String { get(element, "stats") }

    static func get(_ element: UnsafeMutablePointer<GstElement>, _ name: String) -> String {
        let object = UnsafeMutableRawPointer(element).assumingMemoryBound(to: GObject.self)
        let pspec = g_object_class_find_property(
            UnsafeMutableRawPointer(element.pointee.object.object.g_type_instance.g_class).assumingMemoryBound(to: GObjectClass.self), name)!
        var v = GValue()
        g_value_init(&v, pspec.pointee.value_type)
        g_object_get_property(object, name, &v)
        defer { g_value_unset(&v) }
        if pspec.pointee.value_type == cgst_type_structure() {
            guard let structure = g_value_get_boxed(&v) else { return "" }
            let text = gst_structure_to_string(structure.assumingMemoryBound(to: GstStructure.self))!
            defer { g_free(text) }
            return String(cString: text)
        }
        guard let text = gst_value_serialize(&v) else { return "" }
        defer { g_free(text) }
        return String(cString: text)
    }

    func addSource(_ launch: String) {
        gst_harness_add_src_parse(pointer, launch, 0)
    }

    /// Pushes one frame from the source and pulls the result.
    func pushAndPull() -> UnsafeMutablePointer<GstBuffer>? {
        guard gst_harness_push_from_src(pointer) == GST_FLOW_OK else { return nil }
        return gst_harness_pull(pointer)
    }

    /// The first error message on the element's bus.
    func errorMessage() -> String? { firstMessage(GST_MESSAGE_ERROR, parse: gst_message_parse_error) }

    /// The first warning message on the element's bus.
    func warningMessage() -> String? { firstMessage(GST_MESSAGE_WARNING, parse: gst_message_parse_warning) }

    private func firstMessage(_ type: GstMessageType,
                              parse: (UnsafeMutablePointer<GstMessage>?, UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?,
                                      UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?) -> Void) -> String? {
        while let message = gst_bus_pop(bus) {
            defer { gst_message_unref(message) }
            guard message.pointee.type == type else { continue }
            var error: UnsafeMutablePointer<GError>? = nil
            parse(message, &error, nil)
            defer { g_error_free(error) }
            return String(cString: error!.pointee.message)
        }
        return nil
    }

    /// Element messages named `name` on the bus, as their `json` field.
    func jsonMessages(named name: String) -> [String] {
        var result: [String] = []
        while let message = gst_bus_pop(bus) {
            defer { gst_message_unref(message) }
            guard message.pointee.type == GST_MESSAGE_ELEMENT, let s = gst_message_get_structure(message),
                  String(cString: gst_structure_get_name(s)) == name,
                  let json = gst_structure_get_string(s, "json") else { continue }
            result.append(String(cString: json))
        }
        return result
    }
}

/// Where the videotestsrc ball is, found from the pixels: the box of pixels clearly
/// brighter than the black background.
func ballBox(in buffer: UnsafeMutablePointer<GstBuffer>, format: String, width: Int, height: Int) -> (x: Int, y: Int, w: Int, h: Int)? {
    var info = GstVideoInfo()
    gst_video_info_set_format(&info, gst_video_format_from_string(format), UInt32(width), UInt32(height))
    var frame = GstVideoFrame()
    guard gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ) != 0 else { return nil }
    defer { gst_video_frame_unmap(&frame) }
    let data = cgst_video_frame_plane(&frame, 0)!
    let stride = Int(cgst_video_frame_stride(&frame, 0))
    let bytesPerPixel: Int
    switch format {
    case "RGB", "BGR": bytesPerPixel = 3
    case "I420", "NV12": bytesPerPixel = 1  // luma plane
    default: bytesPerPixel = 4
    }
    let greenOffset = bytesPerPixel >= 3 ? 1 : 0
    var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
    for y in 0..<height {
        let row = data + y * stride
        for x in 0..<width where row[x * bytesPerPixel + greenOffset] > 100 {
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        }
    }
    guard maxX >= 0 else { return nil }
    return (minX, minY, maxX - minX + 1, maxY - minY + 1)
}

func iou(_ a: (x: Int, y: Int, w: Int, h: Int), _ b: (x: Int, y: Int, w: Int, h: Int)) -> Double {
    let w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    let h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    guard w > 0, h > 0 else { return 0 }
    let inter = Double(w * h)
    return inter / (Double(a.w * a.h + b.w * b.h) - inter)
}

/// The ROI metas of a buffer.
func regions(_ buffer: UnsafeMutablePointer<GstBuffer>) -> [(label: String, confidence: Double, box: (x: Int, y: Int, w: Int, h: Int))] {
    var result: [(String, Double, (Int, Int, Int, Int))] = []
    var state: gpointer? = nil
    while let meta = gst_buffer_iterate_meta_filtered(buffer, &state, gst_video_region_of_interest_meta_api_get_type()) {
        let roi = UnsafeMutableRawPointer(meta).assumingMemoryBound(to: GstVideoRegionOfInterestMeta.self)
        let params = gst_video_region_of_interest_meta_get_param(roi, "detection")
        var confidence = 0.0
        if let params { gst_structure_get_double(params, "confidence", &confidence) }
        let label = params.flatMap { gst_structure_get_string($0, "label") }.map { String(cString: $0) } ?? "?"
        let r = roi.pointee
        result.append((label, confidence, (Int(r.x), Int(r.y), Int(r.w), Int(r.h))))
    }
    return result.map { (label: $0.0, confidence: $0.1, box: (x: $0.2.0, y: $0.2.1, w: $0.2.2, h: $0.2.3)) }
}

/// Runs gst-launch-1.0 with the staged plugins and a private registry.
struct LaunchResult {
    var status: Int32
    var signaled: Bool
    var stdout: String
    var stderr: String
}

/// A gst-launch-1.0 process with the staged plugins and a private registry, not started.
func gstLaunchProcess(_ arguments: [String]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gst-launch-1.0")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["GST_PLUGIN_PATH"] = Paths.plugins
    env["GST_REGISTRY"] = NSTemporaryDirectory() + "chatcast-launch-registry.bin"
    // Plugins built with a sanitizer need its runtime in gst-launch, which has none of its own.
    if let runtime = env["CHATCAST_CHILD_PRELOAD"] { env["LD_PRELOAD"] = runtime }
    process.environment = env
    return process
}

/// Starts gst-launch-1.0 in the background with its output discarded.
func gstLaunchInBackground(_ arguments: [String]) throws -> Process {
    let process = gstLaunchProcess(arguments)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

func gstLaunch(_ arguments: [String], timeout: TimeInterval = 120, messages: Bool = false) throws -> LaunchResult {
    let output = try runToEnd(gstLaunchProcess((messages ? ["-m"] : []) + arguments), timeout: timeout)
    return LaunchResult(status: output.status, signaled: output.signaled, stdout: output.stdout, stderr: output.stderr)
}

/// The `json=` payloads of `swiftyolo` element messages printed by `gst-launch-1.0 -m`.
func detectionLines(_ launchOutput: String) -> [[String: Any]] { jsonLines(launchOutput, element: "swiftyolo") }

/// The `json=` payloads of element messages named `element` printed by `gst-launch-1.0 -m`.
func jsonLines(_ launchOutput: String, element: String) -> [[String: Any]] {
    launchOutput.split(separator: "\n").compactMap { line -> [String: Any]? in
        guard line.contains("(element): \(element),"),
              let start = line.range(of: "json=(string)\"") else { return nil }
        var text = String(line[start.upperBound...])
        if let end = text.range(of: "\";", options: .backwards) { text = String(text[..<end.lowerBound]) }
        // gst_structure_to_string escapes with backslashes, and non-ASCII bytes as \ooo octal.
        var bytes: [UInt8] = []
        let chars = Array(text.utf8)
        var i = 0
        while i < chars.count {
            if chars[i] == UInt8(ascii: "\\"), i + 1 < chars.count {
                let octal = chars[(i + 1)..<min(i + 4, chars.count)]
                if octal.count == 3, octal.allSatisfy({ (0x30...0x37).contains($0) }) {
                    bytes.append(octal.reduce(0) { $0 << 3 | ($1 - 0x30) })
                    i += 4
                } else {
                    bytes.append(chars[i + 1])
                    i += 2
                }
            } else {
                bytes.append(chars[i])
                i += 1
            }
        }
        let unescaped = String(decoding: bytes, as: UTF8.self)
        return (try? JSONSerialization.jsonObject(with: Data(unescaped.utf8))) as? [String: Any]
    }
}

/// Pushes `buffer` into the harness and returns the bytes of the buffer that comes out.
func pushAndReadBytes(_ h: Harness, _ buffer: UnsafeMutablePointer<GstBuffer>) throws -> [UInt8] {
    XCTAssertEqual(gst_harness_push(h.pointer, buffer), GST_FLOW_OK)
    let out = try XCTUnwrap(gst_harness_pull(h.pointer))
    defer { gst_buffer_unref(out) }
    var map = GstMapInfo()
    gst_buffer_map(out, &map, GST_MAP_READ)
    defer { gst_buffer_unmap(out, &map) }
    return Array(UnsafeBufferPointer(start: map.data, count: Int(map.size)))
}

/// Debian's python3 running `arguments`, not started.
func python(_ arguments: [String]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = arguments
    return process
}

/// Parses `launch`, plays it to EOS (or error, or `seconds`) in this process and returns the
/// pipeline, still in PLAYING, and the message that ended the run.
func playInProcess(_ launch: String, seconds: GstClockTime = 60) -> (pipeline: UnsafeMutablePointer<GstElement>, ended: GstMessageType?) {
    _ = GStreamerOnce.ready
    var error: UnsafeMutablePointer<GError>? = nil
    let pipeline = gst_parse_launch(launch, &error)!
    if let error {
        XCTFail(String(cString: error.pointee.message))
        g_error_free(error)
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING)
    let bus = gst_element_get_bus(pipeline)!
    defer { gst_object_unref(bus) }
    let message = gst_bus_timed_pop_filtered(bus, seconds * 1_000_000_000,
                                             GstMessageType(rawValue: GST_MESSAGE_EOS.rawValue | GST_MESSAGE_ERROR.rawValue))
    defer { if let message { gst_message_unref(message) } }
    return (pipeline, message?.pointee.type)
}
