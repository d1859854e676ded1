// The benchmark's baseline: a bare libtorch forward loop through the same CTorch shim the
// element uses, on one thread, with no GStreamer and no pre/post-processing.
// Usage: torch-forward-loop MODEL WIDTH HEIGHT FRAMES THREADS  → prints {"fps": …}
import CTorch
import Foundation

let args = CommandLine.arguments
guard args.count == 6, let width = Int(args[2]), let height = Int(args[3]), let frames = Int(args[4]),
      let threads = Int32(args[5]) else {
    FileHandle.standardError.write("usage: torch-forward-loop MODEL WIDTH HEIGHT FRAMES THREADS\n".data(using: .utf8)!)
    exit(2)
}
var error: UnsafeMutablePointer<CChar>? = nil
guard let model = ctorch_model_load(args[1], "cpu", threads, &error) else {
    FileHandle.standardError.write("\(String(cString: error!))\n".data(using: .utf8)!)
    exit(1)
}
let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * width * height)
for i in input.indices { input[i] = Float(i % 251) / 251 }

@MainActor func forward() {
    guard ctorch_model_forward(model, input.baseAddress!, 3, Int64(height), Int64(width), &error) == 0 else {
        FileHandle.standardError.write("\(String(cString: error!))\n".data(using: .utf8)!)
        exit(1)
    }
}

for _ in 0..<5 { forward() }
let start = DispatchTime.now().uptimeNanoseconds
for _ in 0..<frames { forward() }
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
print("{\"fps\": \(Double(frames) / seconds)}")
