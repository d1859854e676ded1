/// How a frame maps into the model's input tensor and back: letterbox (YOLO: one scale,
/// centred, padded) or stretch (FastestDet: each axis scaled to fill the tensor).
public struct InputGeometry: Equatable, Sendable {
    public enum Fit: Sendable { case letterbox, stretch }

    public let frameWidth: Int, frameHeight: Int
    public let tensorWidth: Int, tensorHeight: Int
    public let scaleX: Double, scaleY: Double
    /// The resized picture occupies [padX, padX + contentWidth) × [padY, padY + contentHeight).
    public let padX: Int, padY: Int
    public let contentWidth: Int, contentHeight: Int

    public init(frameWidth: Int, frameHeight: Int, tensorWidth: Int, tensorHeight: Int, fit: Fit) {
        precondition(frameWidth > 0 && frameHeight > 0 && tensorWidth > 0 && tensorHeight > 0)
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.tensorWidth = tensorWidth
        self.tensorHeight = tensorHeight
        switch fit {
        case .letterbox:
            // Ultralytics' letterbox: one ratio, rounded size, floor-half padding on the left/top.
            let r = min(Double(tensorWidth) / Double(frameWidth), Double(tensorHeight) / Double(frameHeight))
            contentWidth = min(tensorWidth, max(1, Int((Double(frameWidth) * r).rounded())))
            contentHeight = min(tensorHeight, max(1, Int((Double(frameHeight) * r).rounded())))
            padX = (tensorWidth - contentWidth) / 2
            padY = (tensorHeight - contentHeight) / 2
        case .stretch:
            contentWidth = tensorWidth
            contentHeight = tensorHeight
            padX = 0
            padY = 0
        }
        // The scale actually applied by the resampler, so boxes map back exactly.
        scaleX = Double(contentWidth) / Double(frameWidth)
        scaleY = Double(contentHeight) / Double(frameHeight)
    }

    /// A box in tensor pixels (corners) to frame pixels, clipped to the frame.
    public func toFrame(_ box: Box) -> Box {
        func clampX(_ v: Double) -> Double { min(max(v, 0), Double(frameWidth)) }
        func clampY(_ v: Double) -> Double { min(max(v, 0), Double(frameHeight)) }
        return Box(x1: clampX((box.x1 - Double(padX)) / scaleX), y1: clampY((box.y1 - Double(padY)) / scaleY),
                   x2: clampX((box.x2 - Double(padX)) / scaleX), y2: clampY((box.y2 - Double(padY)) / scaleY))
    }
}
