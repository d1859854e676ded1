import CGStreamer
import CGstGlue

/// Holds an implementation for the glue: one pointer in the GObject instance points here.
final class ElementBox {
    let element: ElementRef
    let impl: ElementImpl
    let videoFilter: VideoFilterImpl?

    init(element: ElementRef, impl: ElementImpl) {
        self.element = element
        self.impl = impl
        videoFilter = impl as? VideoFilterImpl
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
    init(make: @escaping (ElementRef) -> ElementImpl) { self.make = make }
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
        } else {
            desc.pointee.base = CGST_BASE_TRANSFORM
        }
        desc.pointee.user_data = Unmanaged.passRetained(ElementFactoryBox(make: { T(element: $0) })).toOpaque()
        desc.pointee.callbacks = callbacks
        return cgst_element_register(plugin, desc) != 0
    }

    private static let callbacks: CGstCallbacks = {
        var cb = CGstCallbacks()
        cb.create = { userData, element in
            let factory = Unmanaged<ElementFactoryBox>.fromOpaque(userData!).takeUnretainedValue()
            let ref = ElementRef(element!)
            return Unmanaged.passRetained(ElementBox(element: ref, impl: factory.make(ref))).toOpaque()
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
            var outcome = FlowOutcome.ok
            guard box.reporting({ outcome = try box.videoFilter!.transformFrameInPlace(VideoFrameRef(frame!)) }) else {
                return GST_FLOW_ERROR
            }
            return outcome.gstFlow
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

/// A GstPlugin pointer as the C entry point passes it.
public typealias PluginPointer = OpaquePointer
