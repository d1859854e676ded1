import Locking

/// A property declared once with the settings field it reads and writes, so its spec, its
/// getter and its setter cannot disagree and no declared name can be forgotten.
public struct BoundProperty<Settings: Sendable>: Sendable {
    public let spec: PropertySpec
    let read: @Sendable (Settings) -> PropertyValue
    /// False when the value is not of the property's type.
    let write: @Sendable (inout Settings, PropertyValue) -> Bool

    public init(_ spec: PropertySpec, get: @escaping @Sendable (Settings) -> PropertyValue,
                set: @escaping @Sendable (inout Settings, PropertyValue) -> Bool) {
        self.spec = spec
        read = get
        write = set
    }

    public static func bool(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, Bool> & Sendable) -> Self {
        Self(spec, get: { .bool($0[keyPath: field]) }) { s, v in
            guard case let .bool(b) = v else { return false }
            s[keyPath: field] = b
            return true
        }
    }

    public static func int(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, Int> & Sendable) -> Self {
        Self(spec, get: { .int(Int32(clamping: $0[keyPath: field])) }) { s, v in
            guard case let .int(i) = v else { return false }
            s[keyPath: field] = Int(i)
            return true
        }
    }

    public static func double(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, Double> & Sendable) -> Self {
        Self(spec, get: { .double($0[keyPath: field]) }) { s, v in
            guard case let .double(d) = v else { return false }
            s[keyPath: field] = d
            return true
        }
    }

    /// A string that falls back to `whenUnset` when set to nothing or to "".
    public static func string(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, String> & Sendable, whenUnset: String) -> Self {
        Self(spec, get: { .string($0[keyPath: field]) }) { s, v in
            guard case let .string(text) = v else { return false }
            s[keyPath: field] = text.flatMap { $0.isEmpty ? nil : $0 } ?? whenUnset
            return true
        }
    }

    /// An enumeration whose cases' raw values are the GEnum's values.
    public static func enumeration<E: RawRepresentable & Sendable>(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, E> & Sendable) -> Self
    where E.RawValue == Int32 {
        Self(spec, get: { .enumeration($0[keyPath: field].rawValue) }) { s, v in
            guard case let .enumeration(e) = v, let value = E(rawValue: e) else { return false }
            s[keyPath: field] = value
            return true
        }
    }

    /// A string where empty and unset both mean unset.
    public static func string(_ spec: PropertySpec, _ field: WritableKeyPath<Settings, String?> & Sendable) -> Self {
        Self(spec, get: { .string($0[keyPath: field]) }) { s, v in
            guard case let .string(text) = v else { return false }
            s[keyPath: field] = text.flatMap { $0.isEmpty ? nil : $0 }
            return true
        }
    }
}

/// An element's settable properties by name.
public struct PropertyTable<Settings: Sendable>: Sendable {
    private let byName: [String: BoundProperty<Settings>]
    /// The specs in declaration order, for the element description.
    public let specs: [PropertySpec]

    public init(_ properties: [BoundProperty<Settings>]) {
        specs = properties.map(\.spec)
        byName = Dictionary(properties.map { ($0.spec.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// False for a name the table does not declare or a value of the wrong type.
    public func set(_ name: String, _ value: PropertyValue, on settings: inout Settings) -> Bool {
        byName[name]?.write(&settings, value) ?? false
    }

    /// nil for a name the table does not declare.
    public func get(_ name: String, from settings: Settings) -> PropertyValue? {
        byName[name]?.read(settings)
    }
}

extension PropertyTable {
    /// An element's setter: `name` set on its settings; a name or value the table does not
    /// take changes nothing and is reported on `log`.
    public func set(_ name: String, _ value: PropertyValue, in settings: borrowing Mutex<Settings>, element: ElementRef,
                    log: DebugCategory) {
        if !settings.withLock({ set(name, value, on: &$0) }) {
            log.warning(element, "property \(name): value \(value) not understood; unchanged")
        }
    }

    /// An element's getter: `name` read from its settings (unset for a name not declared).
    public func get(_ name: String, in settings: borrowing Mutex<Settings>) -> PropertyValue {
        settings.withLock { get(name, from: $0) } ?? .string(nil)
    }
}
