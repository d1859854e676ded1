import CGStreamer
import CGstGlue
import GstSwift

/// plugin_init for libgstchatsink.so: registers the chat meta and the elements.
@_cdecl("chatcast_chatsink_plugin_init")
public func chatsinkPluginInit(_ plugin: OpaquePointer?) -> gboolean {
    ChatSinkPlugin.registerElements(plugin: plugin) ? 1 : 0
}

public enum ChatSinkPlugin {
    public static func registerElements(plugin: OpaquePointer?) -> Bool {
        cgst_chat_meta_register()
        return ElementRegistration.register(ChatParse.self, plugin: plugin)
            && ElementRegistration.register(ChatInject.self, plugin: plugin)
            && ElementRegistration.register(ChatSink.self, plugin: plugin)
            && ElementRegistration.register(ChatOverlay.self, plugin: plugin)
    }

    /// Registers the elements in this process without a plugin file, for tests and apps.
    public static func registerStatically() {
        _ = registerElements(plugin: nil)
    }
}
