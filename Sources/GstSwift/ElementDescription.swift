import CGStreamer
import CGstGlue

/// What gst-inspect shows about an element type and how GStreamer creates it.
public struct ElementDescription: Sendable {
    public var typeName: String
    public var elementName: String
    public var rank: UInt32
    public var longName: String, classification: String, summary: String, author: String
    public var sinkCaps: String
    public var srcCaps: String?
    public var properties: [PropertySpec]
    /// Whether GstBaseTransform's QoS may drop late frames before the element sees them.
    public var qos: Bool
    /// A video filter that only reads pixels: frames are mapped read-only.
    public var readOnlyFrames: Bool
    public var signals: [SignalSpec]

    public init(typeName: String, elementName: String, rank: UInt32 = 0, longName: String, classification: String,
                summary: String, author: String, sinkCaps: String, srcCaps: String?, properties: [PropertySpec],
                qos: Bool = false, readOnlyFrames: Bool = false, signals: [SignalSpec] = []) {
        self.typeName = typeName
        self.elementName = elementName
        self.rank = rank
        self.longName = longName
        self.classification = classification
        self.summary = summary
        self.author = author
        self.sinkCaps = sinkCaps
        self.srcCaps = srcCaps
        self.properties = properties
        self.qos = qos
        self.readOnlyFrames = readOnlyFrames
        self.signals = signals
    }
}

/// What every element implementation provides, mirroring GObject and GstElement vfuncs.
/// `start`/`stop` default to nothing; the glue chains to the parent class afterwards.
public protocol ElementImpl: AnyObject, Sendable {
    static var elementDescription: ElementDescription { get }
    init(element: ElementRef)
    /// Called from any thread; keep settings behind a lock.
    func setProperty(_ name: String, _ value: PropertyValue)
    func property(_ name: String) -> PropertyValue
    func start() throws
    func stop() throws
    /// Handles an action signal declared in the description; returns its result.
    func action(_ signal: String, _ arguments: [PropertyValue]) -> PropertyValue?
}

extension ElementImpl {
    public func start() throws {}
    public func stop() throws {}
    /// Handles an action signal declared in the description; returns its result.
    public func action(_ signal: String, _ arguments: [PropertyValue]) -> PropertyValue? { nil }
}

/// A signal: emitted by the element (`message`), or an action the application emits (`send`).
public struct SignalSpec: Sendable {
    public enum ValueType: Sendable {
        case string, int, uint64, bool, none

        var gtype: GType {
            switch self {
            case .string: return cgst_type_string()
            case .int: return cgst_type_int()
            case .uint64: return cgst_type_uint64()
            case .bool: return cgst_type_boolean()
            case .none: return cgst_type_none()
            }
        }
    }

    public let name: String
    public let parameters: [ValueType]
    public let returns: ValueType
    public let isAction: Bool

    public init(_ name: String, parameters: [ValueType], returns: ValueType = .none, isAction: Bool = false) {
        self.name = name
        self.parameters = parameters
        self.returns = returns
        self.isAction = isAction
    }
}

/// A GstBaseTransform working in place on whole buffers (encoded streams).
public protocol TransformImpl: ElementImpl {
    func transformInPlace(_ buffer: BufferRef) throws -> FlowOutcome
    /// Sees each sink event first; false drops it.
    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool
}

extension TransformImpl {
    public func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool { true }
}

/// A GstBaseSink.
public protocol SinkImpl: ElementImpl {
    func render(_ buffer: BufferRef) throws -> FlowOutcome
    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool
}

extension SinkImpl {
    public func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool { true }
}

/// A GstVideoFilter working in place on mapped frames.
public protocol VideoFilterImpl: ElementImpl {
    func setInfo(_ info: VideoInfoRef) throws
    func transformFrameInPlace(_ frame: VideoFrameRef) throws -> FlowOutcome
    /// Fixed caps arrived that the pad template refuses (not called for ACCEPT_CAPS probes).
    func capsRefused(_ caps: CapsDescription)
    /// Sees each sink event first (flushes, segments, EOS); false drops it.
    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool
}

extension VideoFilterImpl {
    public func setInfo(_ info: VideoInfoRef) throws {}
    public func capsRefused(_ caps: CapsDescription) {}
    public func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool { true }
}

/// A transform or video filter that answers some queries itself.
public protocol QueryHandler: ElementImpl {
    /// nil passes the query to the parent class; otherwise whether it was answered.
    func query(_ query: UnsafeMutablePointer<GstQuery>, onSourcePad: Bool) -> Bool?
}

/// Fixed caps as text plus the fields elements usually judge them by.
public struct CapsDescription: Sendable {
    public var text: String
    public var mediaType: String
    public var format: String?
}
