import CGStreamer
import CGstRTSPGlue

// GStreamer's objects are made for threads: mini objects (buffers, caps) count references
// atomically and a shared one is never written, GstObjects lock themselves. These hold one
// reference each and release it when they go, so they may cross threads as values.

/// One reference to a GstBuffer.
final class SharedBuffer: @unchecked Sendable {  // holds a reference; a buffer with more than one is read-only
    let pointer: UnsafeMutablePointer<GstBuffer>

    /// Takes over the caller's reference.
    init(taking pointer: UnsafeMutablePointer<GstBuffer>) { self.pointer = pointer }

    deinit { gst_mini_object_unref(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GstMiniObject.self)) }

    /// A reference for a call that takes one (a push).
    func newReference() -> UnsafeMutablePointer<GstBuffer> { gst_buffer_ref(pointer) }

    var size: Int { Int(gst_buffer_get_size(pointer)) }
    var isKeyFrame: Bool { pointer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0 }
    /// The clock times a bridge carries in the offset fields (see `RoomBridge`).
    var clockPTS: GstClockTime { pointer.pointee.offset }
    var clockDTS: GstClockTime { pointer.pointee.offset_end }
}

/// One reference to GstCaps.
final class SharedCaps: @unchecked Sendable {  // holds a reference; caps are immutable once shared
    let pointer: UnsafeMutablePointer<GstCaps>

    /// Takes over the caller's reference.
    init(taking pointer: UnsafeMutablePointer<GstCaps>) { self.pointer = pointer }

    /// Adds a reference of its own.
    init(adding pointer: UnsafeMutablePointer<GstCaps>) {
        _ = gst_mini_object_ref(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GstMiniObject.self))
        self.pointer = pointer
    }

    deinit { gst_mini_object_unref(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GstMiniObject.self)) }

    /// A new reference for a caller that keeps one.
    func newReference() -> UnsafeMutablePointer<GstCaps> {
        gst_mini_object_ref(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: GstMiniObject.self))!
            .withMemoryRebound(to: GstCaps.self, capacity: 1) { $0 }
    }
}

/// One reference to a GstObject (an element, a media, a pad).
final class SharedObject<Object>: @unchecked Sendable {  // holds a reference; GstObject's API locks itself
    let pointer: UnsafeMutablePointer<Object>

    /// Takes over the caller's reference.
    init(taking pointer: UnsafeMutablePointer<Object>) { self.pointer = pointer }

    /// Adds a reference of its own.
    init(adding pointer: UnsafeMutablePointer<Object>) {
        _ = gst_object_ref(UnsafeMutableRawPointer(pointer))
        self.pointer = pointer
    }

    deinit { gst_object_unref(UnsafeMutableRawPointer(pointer)) }

    var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pointer) }
}

typealias SharedElement = SharedObject<GstElement>

/// One reference to a plain GObject (a webrtcbin data channel).
final class SharedGObject: @unchecked Sendable {  // holds a reference; the objects kept this way lock themselves
    let pointer: gpointer

    init(adding pointer: gpointer) {
        _ = g_object_ref(pointer)
        self.pointer = pointer
    }

    deinit { g_object_unref(pointer) }
}

/// What a C callback holds of a Swift object: a weak reference in a box GLib owns and frees
/// (destroy notify) with the signal handler or probe. A callback that comes after its object
/// is gone finds nil instead of freed memory.
final class WeakBox: Sendable {
    weak let object: (any AnyObject & Sendable)?

    init(_ object: any AnyObject & Sendable) { self.object = object }

    /// A retained pointer for C; `release` frees it.
    static func retained(_ object: any AnyObject & Sendable) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(WeakBox(object)).toOpaque()
    }

    static let release: GDestroyNotify = { data in
        guard let data else { return }
        Unmanaged<WeakBox>.fromOpaque(data).release()
    }

    /// The object behind a callback's data, if it is still there.
    static func object<T>(_ data: UnsafeMutableRawPointer?, as type: T.Type) -> T? {
        guard let data else { return nil }
        return Unmanaged<WeakBox>.fromOpaque(data).takeUnretainedValue().object as? T
    }
}

/// Connects a C callback to `signal` of `instance` with `object` reachable through a `WeakBox`.
@discardableResult
func connectSignal(_ instance: UnsafeMutableRawPointer, _ signal: String, _ handler: GCallback,
                   to object: any AnyObject & Sendable) -> gulong {
    cgst_signal_connect_owned(instance, signal, handler, WeakBox.retained(object), WeakBox.release)
}

/// Adds a pad probe with `object` reachable through a `WeakBox`.
@discardableResult
func addProbe(_ pad: UnsafeMutablePointer<GstPad>, _ mask: GstPadProbeType, _ callback: GstPadProbeCallback,
              to object: any AnyObject & Sendable) -> gulong {
    gst_pad_add_probe(pad, mask, callback, WeakBox.retained(object), WeakBox.release)
}
