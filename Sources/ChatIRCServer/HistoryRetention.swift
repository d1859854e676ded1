import ChatCastSEI
import Foundation

/// How much of each room's history is kept: messages older than `maxAgeDays` and those
/// beyond the newest `maxMessagesPerRoom` of a room go (nil: no such limit). InspIRCd's
/// chanhistory and ergo keep a bounded history per channel in the same two ways.
public struct HistoryRetention: Sendable, Equatable {
    public var maxAgeDays: Int?
    public var maxMessagesPerRoom: Int?

    public init(maxAgeDays: Int? = 30, maxMessagesPerRoom: Int? = 10_000) {
        self.maxAgeDays = maxAgeDays
        self.maxMessagesPerRoom = maxMessagesPerRoom
    }

    /// Keeps everything (tests, and servers that want no pruning).
    public static let forever = HistoryRetention(maxAgeDays: nil, maxMessagesPerRoom: nil)

    /// The oldest `server-time` kept at `now` (the stored form: sortable as text), if any limit.
    public func cutoff(now: Date = Date()) -> String? {
        maxAgeDays.map { days in
            let then = now.timeIntervalSince1970 - Double(days) * 86_400
            return ChatMessageFactory.timestamp(seconds: Int(then.rounded(.down)))
        }
    }
}
