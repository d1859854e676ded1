import CGStreamer
import CGstGlue

/// A property value crossing the GObject boundary.
public enum PropertyValue: Equatable, Sendable {
    case bool(Bool)
    case int(Int32)
    case uint(UInt32)
    case double(Double)
    case string(String?)
    /// A GEnum's numeric value.
    case enumeration(Int32)
    /// A GstStructure described as its serialised text (for read-only statistics).
    case structure(String)
    /// A 64-bit unsigned value (signal arguments such as pts).
    case uint64(UInt64)
}

/// When a property may change, as gst-inspect shows it.
public enum PropertyMutability: Sendable {
    /// Only before the element starts (READY or lower): settings read in start().
    case ready
    /// Any time: read once per buffer.
    case playing
    case readOnly
}

/// A property as gst-inspect documents it: name, nick, blurb, range and default.
public struct PropertySpec: Sendable {
    public enum Kind: Sendable {
        case bool(default: Bool)
        case int(min: Int32, max: Int32, default: Int32)
        case uint(min: UInt32, max: UInt32, default: UInt32)
        case double(min: Double, max: Double, default: Double)
        case string(default: String?)
        /// A GEnum named `typeName` with (value, nick, description) entries.
        case enumeration(typeName: String, values: [(Int32, String, String)], default: Int32)
        case structure
    }

    public let name: String, nick: String, blurb: String
    public let kind: Kind
    public let mutability: PropertyMutability

    public init(_ name: String, nick: String, blurb: String, _ kind: Kind, mutability: PropertyMutability = .ready) {
        self.name = name
        self.nick = nick
        self.blurb = blurb
        self.kind = kind
        self.mutability = mutability
    }

    /// G_PARAM_READABLE/WRITABLE and GST_PARAM_MUTABLE_* (1 << (G_PARAM_USER_SHIFT + n)) are
    /// macros Swift does not see; these are their values.
    private var flags: GParamFlags {
        let readable: Int32 = 1 << 0, writable: Int32 = 1 << 1
        let mutableReady: Int32 = 1 << 10, mutablePlaying: Int32 = 1 << 12
        switch mutability {
        case .ready: return GParamFlags(rawValue: readable | writable | mutableReady)
        case .playing: return GParamFlags(rawValue: readable | writable | mutablePlaying)
        case .readOnly: return GParamFlags(rawValue: readable)
        }
    }

    func makeParamSpec() -> UnsafeMutablePointer<GParamSpec> {
        switch kind {
        case let .bool(d): return g_param_spec_boolean(name, nick, blurb, d ? 1 : 0, flags)
        case let .int(lo, hi, d): return g_param_spec_int(name, nick, blurb, lo, hi, d, flags)
        case let .uint(lo, hi, d): return g_param_spec_uint(name, nick, blurb, lo, hi, d, flags)
        case let .double(lo, hi, d): return g_param_spec_double(name, nick, blurb, lo, hi, d, flags)
        case let .string(d): return g_param_spec_string(name, nick, blurb, d, flags)
        case let .enumeration(typeName, values, d):
            let nums = values.map(\.0)
            let nicks = values.map { UnsafePointer(strdup($0.1)) }
            let descriptions = values.map { UnsafePointer(strdup($0.2)) }
            let type = cgst_enum_register(typeName, UInt32(values.count), nums, nicks, descriptions)
            nicks.forEach { free(UnsafeMutablePointer(mutating: $0)) }
            descriptions.forEach { free(UnsafeMutablePointer(mutating: $0)) }
            return g_param_spec_enum(name, nick, blurb, type, d, flags)
        case .structure:
            return g_param_spec_boxed(name, nick, blurb, cgst_type_structure(), flags)
        }
    }
}

/// Reads a GValue into a PropertyValue according to its type.
func propertyValue(from value: UnsafePointer<GValue>) -> PropertyValue? {
    let type = value.pointee.g_type
    if type == cgst_type_boolean() { return .bool(g_value_get_boolean(value) != 0) }
    if type == cgst_type_int() { return .int(g_value_get_int(value)) }
    if type == cgst_type_uint() { return .uint(g_value_get_uint(value)) }
    if type == cgst_type_double() { return .double(g_value_get_double(value)) }
    if type == cgst_type_uint64() { return .uint64(UInt64(g_value_get_uint64(value))) }
    if type == cgst_type_string() { return .string(g_value_get_string(value).map { String(cString: $0) }) }
    if g_type_is_a(type, g_enum_get_type_compat()) != 0 { return .enumeration(g_value_get_enum(value)) }
    return nil
}

/// Writes a PropertyValue into an initialised GValue of the matching type.
func store(_ property: PropertyValue, into value: UnsafeMutablePointer<GValue>) {
    switch property {
    case let .bool(b): g_value_set_boolean(value, b ? 1 : 0)
    case let .int(i): g_value_set_int(value, i)
    case let .uint(u): g_value_set_uint(value, u)
    case let .double(d): g_value_set_double(value, d)
    case let .string(s): g_value_set_string(value, s)
    case let .enumeration(e): g_value_set_enum(value, e)
    case let .uint64(u): g_value_set_uint64(value, guint64(u))
    case let .structure(text):
        if let s = gst_structure_from_string(text, nil) {
            g_value_take_boxed(value, s)
        }
    }
}

/// G_TYPE_ENUM is a macro for a fundamental type id (12 << 2).
@inline(__always) func g_enum_get_type_compat() -> GType { GType(12 << 2) }

/// A string as a GstStructure text value: quoted, with quotes and backslashes escaped.
public func quotedStructureString(_ s: String) -> String {
    var out = "\""
    for c in s {
        if c == "\"" || c == "\\" { out.append("\\") }
        out.append(c)
    }
    return out + "\""
}
