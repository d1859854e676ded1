import CGStreamer
import GstSwift

/// plugin_init for libgstswiftyolo.so, called by GST_PLUGIN_DEFINE in GstSwiftYoloEntry.
/// Registers types only: models load in start().
@_cdecl("chatcast_swiftyolo_plugin_init")
public func swiftyoloPluginInit(_ plugin: OpaquePointer?) -> gboolean {
    if let plugin, let file = gst_plugin_get_filename(plugin) {
        DefaultModel.pluginFile = String(cString: file)
    }
    return SwiftYoloPlugin.registerElements(plugin: plugin) ? 1 : 0
}

public enum SwiftYoloPlugin {
    /// Registers the plugin's elements; plugin nil registers them statically (tests).
    public static func registerElements(plugin: OpaquePointer?) -> Bool {
        ElementRegistration.register(SwiftYolo.self, plugin: plugin)
            && ElementRegistration.register(YoloOverlay.self, plugin: plugin)
    }

    /// Registers the elements in this process without a plugin file, for tests and apps.
    public static func registerStatically() {
        _ = registerElements(plugin: nil)
    }
}
