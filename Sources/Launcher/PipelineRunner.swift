import CGStreamer
import CGstGlue
import Foundation
import Locking

/// Runs a gst-launch description to EOS or error, handing element messages that carry a
/// `json` field to a callback as they arrive.
final class PipelineRunner: Sendable {
    enum Outcome { case finished, failed(String) }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    private let handle: PipelineHandle
    private var pipeline: UnsafeMutablePointer<GstElement> { handle.element }
    /// The SIGINT/SIGTERM handler that ends the stream, while there is one.
    private let stopToken = Mutex<Int?>(nil)

    init(description: String) throws {
        StopSignal.arm()
        gst_init(nil, nil)
        var error: UnsafeMutablePointer<GError>? = nil
        let element = gst_parse_launch(description, &error)
        if let error {
            defer { g_error_free(error) }
            if let element { gst_object_unref(element) }
            let message = String(cString: error.pointee.message)
            if let missing = Self.ourMissingElement(message) { throw ParseError(description: PluginSearch.missing(element: missing)) }
            throw ParseError(description: "cannot build the pipeline: \(message)")
        }
        handle = PipelineHandle(taking: element!)
    }

    /// Sets a string property on every element made by `factory` in the pipeline. Secrets
    /// (RTSP passwords) go this way, never into a launch line, which debug logs print.
    func set(_ property: String, _ value: String, onEvery factory: String) {
        guard let iterator = gst_bin_iterate_recurse(UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self)) else { return }
        defer { gst_iterator_free(iterator) }
        var item = GValue()
        while gst_iterator_next(iterator, &item) == GST_ITERATOR_OK {
            defer { g_value_reset(&item) }
            guard let object = g_value_get_object(&item) else { continue }
            let element = object.assumingMemoryBound(to: GstElement.self)
            guard let made = gst_element_get_factory(element),
                  let name = gst_object_get_name(UnsafeMutableRawPointer(made).assumingMemoryBound(to: GstObject.self)) else { continue }
            defer { g_free(name) }
            guard String(cString: name) == factory else { continue }
            var text = GValue()
            g_value_init(&text, g_type_from_name("gchararray"))
            g_value_set_string(&text, value)
            g_object_set_property(object.assumingMemoryBound(to: GObject.self), property, &text)
            g_value_unset(&text)
        }
        g_value_unset(&item)
    }

    /// Ours among the elements a parse error says are missing ("no element \"chatparse\"").
    private static func ourMissingElement(_ message: String) -> String? {
        ["chatparse", "chatinject", "chatsink", "chatoverlay", "swiftyolo", "yolooverlay"].first { message.contains("no element \"\($0)\"") }
    }

    deinit {
        if let token = stopToken.withLock({ $0 }) { StopSignal.remove(token) }
        handle.tearDown()
    }

    /// Ends the stream (EOS, so files are finalised) after `seconds`, and on SIGINT/SIGTERM.
    /// The timer and the signal handler hold the pipeline only weakly: a runner that is gone
    /// has nothing left to end.
    func end(after seconds: Double?) {
        let target = WeakPipeline(handle)
        if let seconds {
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { target.handle?.finish() }
        }
        let token = StopSignal.onStop { _ in target.handle?.finish() }
        let previous = stopToken.withLock { t -> Int? in
            defer { t = token }
            return t
        }
        if let previous { StopSignal.remove(previous) }
    }

    /// Ends the stream now (EOS; the run returns within 3 s even if EOS never comes out).
    func finish() { handle.finish() }

    func run(onJSON: (String, String) -> Void) -> Outcome {
        guard gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            return drainError() ?? .failed("the pipeline would not start")
        }
        let bus = gst_element_get_bus(pipeline)!
        defer { gst_object_unref(bus) }
        let wanted = GstMessageType(rawValue: GST_MESSAGE_ELEMENT.rawValue | GST_MESSAGE_ERROR.rawValue | GST_MESSAGE_EOS.rawValue
                                    | GST_MESSAGE_APPLICATION.rawValue)
        while true {
            guard let message = gst_bus_timed_pop_filtered(bus, cgst_clock_time_none(), wanted) else { continue }
            defer { gst_message_unref(message) }
            switch message.pointee.type {
            case GST_MESSAGE_EOS:
                return .finished
            case GST_MESSAGE_ERROR:
                return .failed(PipelineRunner.errorText(message))
            case GST_MESSAGE_APPLICATION:
                // The end of stream did not arrive in time (see PipelineHandle.finish).
                return .finished
            default:
                guard let structure = gst_message_get_structure(message),
                      let json = gst_structure_get_string(structure, "json") else { continue }
                onJSON(String(cString: gst_structure_get_name(structure)), String(cString: json))
            }
        }
    }

    private func drainError() -> Outcome? {
        let bus = gst_element_get_bus(pipeline)!
        defer { gst_object_unref(bus) }
        guard let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) else { return nil }
        defer { gst_message_unref(message) }
        return .failed(PipelineRunner.errorText(message))
    }

    static func errorText(_ message: UnsafeMutablePointer<GstMessage>) -> String {
        var error: UnsafeMutablePointer<GError>? = nil
        var debug: UnsafeMutablePointer<gchar>? = nil
        gst_message_parse_error(message, &error, &debug)
        defer {
            if let error { g_error_free(error) }
            g_free(debug)
        }
        let text = error.map { String(cString: $0.pointee.message) } ?? "unknown error"
        return RTSPRefusal.explain(text, debug: debug.map { String(cString: $0) } ?? "")
    }
}

/// The pipeline and the one reference this process holds to it; other threads may send it
/// events and post on its bus (GstElement locks itself). The EOS of a stop and the teardown
/// to NULL take turns on one queue: a SIGTERM that came as the pipeline was being torn down
/// (a live source's EOS and its stop each waiting on the other's lock) hung the process.
final class PipelineHandle: @unchecked Sendable {  // a GstElement reference; its API is thread-safe
    let element: UnsafeMutablePointer<GstElement>
    private let control = DispatchQueue(label: "chatcast.pipeline-control")
    private let tornDown = Mutex(false)

    init(taking element: UnsafeMutablePointer<GstElement>) { self.element = element }

    deinit { gst_object_unref(element) }

    /// Ends the stream with EOS so files are finalised; if EOS has not come out after 3 s
    /// (1.22's rtspclientsink sometimes never finishes its EOS), the run ends anyway.
    func finish() {
        control.async { [self] in
            guard !tornDown.withLock({ $0 }) else { return }
            _ = gst_element_send_event(element, gst_event_new_eos())
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) { [weak self] in
            guard let self else { return }
            let structure = gst_structure_new_empty("chatcast-stop")
            let object = UnsafeMutableRawPointer(element).assumingMemoryBound(to: GstObject.self)
            _ = gst_element_post_message(element, gst_message_new_application(object, structure))
        }
    }

    /// Sets the pipeline to NULL once no EOS is being sent; later stops do nothing. An EOS
    /// that never gets through (a sink stuck on a server that went away) is waited for at
    /// most `seconds`: the process is ending, and a stuck pipeline must not keep it.
    func tearDown(within seconds: Double = 10) {
        let done = DispatchSemaphore(value: 0)
        control.async { [self] in
            tornDown.withLock { $0 = true }
            _ = gst_element_set_state(element, GST_STATE_NULL)
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            Terminal.error("the pipeline did not stop within \(Int(seconds)) s; leaving it")
        }
    }
}

/// A pipeline a timer or a signal handler may end if it is still there.
private final class WeakPipeline: Sendable {
    weak let handle: PipelineHandle?
    init(_ handle: PipelineHandle) { self.handle = handle }
}
