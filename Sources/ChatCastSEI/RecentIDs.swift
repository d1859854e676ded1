/// The last `capacity` chat ids seen, for de-duplication with bounded memory (ids repeat
/// on every IDR frame; a long stream must not grow the set).
public struct RecentIDs {
    public let capacity: Int
    private var members: Set<String> = []
    private var order: [String] = []
    private var oldest = 0

    public init(capacity: Int = 4096) {
        precondition(capacity > 0)
        self.capacity = capacity
        order.reserveCapacity(capacity)
    }

    /// Records `id`; true when it was not among the recent ones.
    public mutating func insert(_ id: String) -> Bool {
        guard !members.contains(id) else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[oldest])
            order[oldest] = id
            oldest = (oldest + 1) % capacity
        }
        members.insert(id)
        return true
    }

    public var count: Int { members.count }
}
