import CTorch

/// A TorchScript model loaded by libtorch through the CTorch shim; errors arrive as text.
final class TorchModel {
    struct LoadError: Error, CustomStringConvertible { let description: String }

    private let handle: OpaquePointer
    let path: String

    init(path: String, device: String, threads: Int) throws {
        var error: UnsafeMutablePointer<CChar>? = nil
        guard let handle = ctorch_model_load(path, device, Int32(threads), &error) else {
            defer { ctorch_string_free(error) }
            throw LoadError(description: error.map { String(cString: $0) } ?? "\(path): cannot load")
        }
        self.handle = handle
        self.path = path
    }

    deinit { ctorch_model_free(handle) }

    /// The export's `config.txt` extra file (Ultralytics metadata), if any.
    var metadataText: String? { ctorch_model_metadata(handle).map { String(cString: $0) } }

    /// Runs a forward on a `[1, 3, height, width]` tensor wrapped around `input` and returns
    /// the output's shape and data, valid until the next forward.
    func forward(_ input: UnsafeMutablePointer<Float>, width: Int, height: Int) throws -> (shape: [Int], data: UnsafePointer<Float>) {
        var error: UnsafeMutablePointer<CChar>? = nil
        guard ctorch_model_forward(handle, input, 3, Int64(height), Int64(width), &error) == 0 else {
            defer { ctorch_string_free(error) }
            throw LoadError(description: error.map { String(cString: $0) } ?? "forward failed")
        }
        let rank = Int(ctorch_model_output_rank(handle))
        let shape = (0..<rank).map { Int(ctorch_model_output_dim(handle, Int32($0))) }
        return (shape, ctorch_model_output_data(handle))
    }
}
