#if canImport(Glibc)
import Glibc
#endif

/// Where the bundled default model is: beside the staged plugin (`make plugins` copies it
/// there), else in the source tree it was built from.
enum DefaultModel {
    static let fileName = "swiftyolo-default.torchscript"
    /// Set by plugin_init from gst_plugin_get_filename().
    nonisolated(unsafe) static var pluginFile: String?

    static var candidates: [String] {
        var list: [String] = []
        if let file = pluginFile, let slash = file.lastIndex(of: "/") {
            list.append(String(file[..<slash]) + "/" + fileName)
        }
        // #filePath is …/Sources/GstSwiftYolo/DefaultModel.swift.
        var source = "\(#filePath)"
        for _ in 0..<3 { if let slash = source.lastIndex(of: "/") { source = String(source[..<slash]) } }
        list.append(source + "/models/ball-yolov8.torchscript")
        return list
    }

    static var path: String? { candidates.first { access($0, R_OK) == 0 } }
}
