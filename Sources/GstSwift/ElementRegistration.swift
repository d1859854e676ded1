import CGStreamer
import CGstGlue

/// Holds an implementation for the glue: one pointer in the GObject instance points here.
final class ElementBox {
    let element: ElementRef
    let impl: ElementImpl
    let videoFilter: VideoFilterImpl?
    let transform: TransformImpl?
    let sink: SinkImpl?
    let signals: [SignalSpec]

    init(element: ElementRef, impl: ElementImpl, signals: [SignalSpec]) {
        self.element = element
        self.impl = impl
        self.signals = signals
        videoFilter = impl as? VideoFilterImpl
        transform = impl as? TransformImpl
        sink = impl as? SinkImpl
    }

    /// Runs a buffer vfunc: thrown errors become element errors and GST_FLOW_ERROR.
    func flow(_ body: () throws -> FlowOutcome) -> GstFlowReturn {
        var outcome = FlowOutcome.ok
        guard reporting({ outcome = try body() }) else { return GST_FLOW_ERROR }
        return outcome.gstFlow
    }

    static func from(_ raw: UnsafeMutableRawPointer?) -> ElementBox {
        Unmanaged<ElementBox>.fromOpaque(raw!).takeUnretainedValue()
    }

    /// Runs `body`; a thrown ElementError becomes an element error on the bus.
    func reporting(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch let error as ElementError {
            element.post(error)
        } catch {
            element.post(.failed("\(error)"))
        }
        return false
    }
}

/// Creates implementations of one type for the glue.
final class ElementFactoryBox {
    let make: (ElementRef) -> ElementImpl
    let signals: [SignalSpec]
    init(signals: [SignalSpec], make: @escaping (ElementRef) -> ElementImpl) {
        self.signals = signals
        self.make = make
    }
}

public enum ElementRegistration {
    /// Registers `type` with `plugin` (nil = statically, for tests and applications).
    /// Safe to call more than once per process.
    @discardableResult
    public static func register<T: ElementImpl>(_ type: T.Type, plugin: OpaquePointer?) -> Bool {
        let description = T.elementDescription
        let desc = UnsafeMutablePointer<CGstElementDesc>.allocate(capacity: 1)
        // The GType lives as long as the process; so does its description.
        desc.initialize(to: CGstElementDesc())
        desc.pointee.type_name = UnsafePointer(strdup(description.typeName))
        desc.pointee.element_name = UnsafePointer(strdup(description.elementName))
        desc.pointee.rank = description.rank
        desc.pointee.longname = UnsafePointer(strdup(description.longName))
        desc.pointee.klass = UnsafePointer(strdup(description.classification))
        desc.pointee.description = UnsafePointer(strdup(description.summary))
        desc.pointee.author = UnsafePointer(strdup(description.author))
        desc.pointee.sink_caps = UnsafePointer(strdup(description.sinkCaps))
        desc.pointee.src_caps = description.srcCaps.map { UnsafePointer(strdup($0)) }
        desc.pointee.qos = description.qos ? 1 : 0
        desc.pointee.read_only_frames = description.readOnlyFrames ? 1 : 0

        if g_type_from_name(description.typeName) == 0 {
            let specs = UnsafeMutablePointer<UnsafeMutablePointer<GParamSpec>?>.allocate(capacity: max(1, description.properties.count))
            for (i, spec) in description.properties.enumerated() { specs[i] = spec.makeParamSpec() }
            desc.pointee.properties = specs
            desc.pointee.n_properties = UInt32(description.properties.count)
        }

        if T.self is VideoFilterImpl.Type {
            desc.pointee.base = CGST_BASE_VIDEO_FILTER
        } else if T.self is SinkImpl.Type {
            desc.pointee.base = CGST_BASE_SINK
        } else {
            desc.pointee.base = CGST_BASE_TRANSFORM
        }
        let signals = description.signals
        if !signals.isEmpty {
            let table = UnsafeMutablePointer<CGstSignalDesc>.allocate(capacity: signals.count)
            for (i, signal) in signals.enumerated() {
                let types = UnsafeMutablePointer<GType>.allocate(capacity: max(1, signal.parameters.count))
                for (k, p) in signal.parameters.enumerated() { types[k] = p.gtype }
                table[i] = CGstSignalDesc(signal_name: UnsafePointer(strdup(signal.name)), is_action: signal.isAction ? 1 : 0,
                                          return_type: signal.returns.gtype, n_params: UInt32(signal.parameters.count),
                                          param_types: UnsafePointer(types),
                                          action: signal.isAction ? actionTrampoline : nil)

            }
            desc.pointee.signals = UnsafePointer(table)
            desc.pointee.n_signals = UInt32(signals.count)
        }
        desc.pointee.user_data = Unmanaged.passRetained(ElementFactoryBox(signals: signals, make: { T(element: $0) }))
            .toOpaque()
        desc.pointee.callbacks = callbacks
        return cgst_element_register(plugin, desc) != 0
    }

    private static let callbacks: CGstCallbacks = {
        var cb = CGstCallbacks()
        cb.create = { userData, element in
            let factory = Unmanaged<ElementFactoryBox>.fromOpaque(userData!).takeUnretainedValue()
            let ref = ElementRef(element!)
            return Unmanaged.passRetained(ElementBox(element: ref, impl: factory.make(ref), signals: factory.signals))
                .toOpaque()
        }
        cb.destroy = { raw in Unmanaged<ElementBox>.fromOpaque(raw!).release() }
        cb.set_property = { raw, name, value in
            guard let v = propertyValue(from: value!) else { return }
            ElementBox.from(raw).impl.setProperty(String(cString: name!), v)
        }
        cb.get_property = { raw, name, value in
            store(ElementBox.from(raw).impl.property(String(cString: name!)), into: value!)
        }
        cb.start = { raw in
            let box = ElementBox.from(raw)
            return box.reporting { try box.impl.start() } ? 1 : 0
        }
        cb.stop = { raw in
            let box = ElementBox.from(raw)
            return box.reporting { try box.impl.stop() } ? 1 : 0
        }
        cb.set_info = { raw, _, inInfo, _, _ in
            let box = ElementBox.from(raw)
            return box.reporting { try box.videoFilter?.setInfo(VideoInfoRef(inInfo!)) } ? 1 : 0
        }
        cb.transform_frame_ip = { raw, frame in
            let box = ElementBox.from(raw)
            return box.flow { try box.videoFilter!.transformFrameInPlace(VideoFrameRef(frame!)) }
        }
        cb.transform_ip = { raw, buffer in
            let box = ElementBox.from(raw)
            return box.flow { try box.transform!.transformInPlace(BufferRef(buffer!)) }
        }
        cb.render = { raw, buffer in
            let box = ElementBox.from(raw)
            return box.flow { try box.sink!.render(BufferRef(buffer!)) }
        }
        cb.sink_event = { raw, event in
            let box = ElementBox.from(raw)
            let pass = box.transform?.sinkEvent(event!) ?? box.videoFilter?.sinkEvent(event!)
                ?? box.sink?.sinkEvent(event!) ?? true
            return pass ? 1 : 0
        }
        cb.query = { raw, src, query, answered in
            let box = ElementBox.from(raw)
            guard let handler = box.impl as? QueryHandler, let result = handler.query(query!, onSourcePad: src != 0) else {
                return 0
            }
            answered!.pointee = result ? 1 : 0
            return 1
        }
        cb.caps_refused = { raw, caps in
            guard let caps, gst_caps_get_size(caps) > 0, let text = gst_caps_to_string(caps) else { return }
            defer { g_free(text) }
            let structure = gst_caps_get_structure(caps, 0)
            let description = CapsDescription(
                text: String(cString: text), mediaType: String(cString: gst_structure_get_name(structure)),
                format: gst_structure_get_string(structure, "format").map { String(cString: $0) })
            ElementBox.from(raw).videoFilter?.capsRefused(description)
        }
        return cb
    }()
}

/// An action signal emitted by the application reaches the element's `action`.
private let actionTrampoline: @convention(c) (UnsafeMutableRawPointer?, UInt32, UnsafePointer<GValue>?, UInt32,
                                               UnsafeMutablePointer<GValue>?) -> Void = { raw, index, params, count, result in
    let box = ElementBox.from(raw)
    let arguments = (0..<Int(count)).compactMap { propertyValue(from: params! + $0) }
    let value = box.impl.action(box.signals[Int(index)].name, arguments)
    if let value, let result { store(value, into: result) }
}
