import Foundation

/// Where `chatcast` finds its GStreamer plugins when the environment does not say: under its
/// install prefix (`bin/chatcast` → `lib/x86_64-linux-gnu/gstreamer-1.0`, where Debian's
/// GStreamer itself looks when the prefix is /usr) or in the build tree it was built in
/// (`.build/…/release/chatcast` → `build/gst-plugins` of the checkout).
/// GStreamer's own system folder is searched as always.
enum PluginSearch {
    static func candidates(executable: String) -> [String] {
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var found = [exe.appendingPathComponent("../lib/x86_64-linux-gnu/gstreamer-1.0").standardized.path]
        var folder = exe
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            found.append(folder.appendingPathComponent("build/gst-plugins").path)
        }
        return found
    }

    /// Sets GST_PLUGIN_PATH to the first candidate that holds our plugins, unless it is set.
    static func exportPluginPath(executable: String) {
        let environment = ProcessInfo.processInfo.environment
        if let set = environment["GST_PLUGIN_PATH"], !set.isEmpty { return }
        guard let found = candidates(executable: executable).first(where: {
            FileManager.default.fileExists(atPath: $0 + "/libgstchatsink.so")
        }) else { return }
        setenv("GST_PLUGIN_PATH", found, 1)
    }

    /// What a user needs to hear when an element of ours is missing.
    static func missing(element: String, executable: String = CommandLine.arguments[0]) -> String {
        let path = ProcessInfo.processInfo.environment["GST_PLUGIN_PATH"] ?? ""
        let looked = path.isEmpty ? candidates(executable: executable) : path.split(separator: ":").map(String.init)
        let plugin = ["swiftyolo", "yolooverlay"].contains(element) ? "libgstswiftyolo.so" : "libgstchatsink.so"
        return "GStreamer has no element \"\(element)\": \(plugin) was not found in \(looked.joined(separator: ", ")) "
            + "nor in GStreamer's system folder (run `make plugins` in the source tree, install with `make install`, "
            + "or point GST_PLUGIN_PATH at the folder holding it)"
    }
}
