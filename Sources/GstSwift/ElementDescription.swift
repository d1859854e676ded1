import CGStreamer
import CGstGlue

/// What gst-inspect shows about an element type and how GStreamer creates it.
public struct ElementDescription {
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

    public init(typeName: String, elementName: String, rank: UInt32 = 0, longName: String, classification: String,
                summary: String, author: String, sinkCaps: String, srcCaps: String?, properties: [PropertySpec],
                qos: Bool = false, readOnlyFrames: Bool = false) {
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
    }
}

/// What every element implementation provides, mirroring GObject and GstElement vfuncs.
/// `start`/`stop` default to nothing; the glue chains to the parent class afterwards.
public protocol ElementImpl: AnyObject {
    static var elementDescription: ElementDescription { get }
    init(element: ElementRef)
    /// Called from any thread; keep settings behind a lock.
    func setProperty(_ name: String, _ value: PropertyValue)
    func property(_ name: String) -> PropertyValue
    func start() throws
    func stop() throws
}

extension ElementImpl {
    public func start() throws {}
    public func stop() throws {}
}

/// A GstVideoFilter working in place on mapped frames.
public protocol VideoFilterImpl: ElementImpl {
    func setInfo(_ info: VideoInfoRef) throws
    func transformFrameInPlace(_ frame: VideoFrameRef) throws -> FlowOutcome
    /// Upstream offered fixed caps the pad template refuses.
    func capsRefused(_ caps: CapsDescription)
}

extension VideoFilterImpl {
    public func setInfo(_ info: VideoInfoRef) throws {}
    public func capsRefused(_ caps: CapsDescription) {}
}

/// Fixed caps as text plus the fields elements usually judge them by.
public struct CapsDescription {
    public var text: String
    public var mediaType: String
    public var format: String?
}
