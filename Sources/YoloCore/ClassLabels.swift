/// Class names, chosen in the order the issue promises: export metadata, then a labels
/// file, then COCO names for 80 classes, then the class numbers.
public enum ClassLabels {
    public struct Mismatch: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Names from a labels file's text: one a line; blank lines and surrounding spaces ignored.
    public static func parseLabelsFile(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { String($0).trimmingSpaces() }
            .filter { !$0.isEmpty }
    }

    public static func resolve(classCount: Int, metadataNames: [String]?, labelsFile: (path: String, names: [String])?)
        throws -> [String]
    {
        if let file = labelsFile {
            guard file.names.count == classCount else {
                throw Mismatch(description: "\(file.path): \(file.names.count) labels, but the model predicts "
                               + "\(classCount) classes. Give a labels file with one name per class.")
            }
            return file.names
        }
        if let names = metadataNames, names.count == classCount { return names }
        if classCount == 80 { return cocoNames }
        return (0..<classCount).map(String.init)
    }

    /// The 80 COCO class names in Ultralytics' spelling and order.
    public static let cocoNames = [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
        "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
        "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
        "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
        "hair drier", "toothbrush",
    ]
}

extension String {
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
