import ChatCastRTSP
import Foundation
import Prometheus

/// `/metrics` of `chatcast serve` in Prometheus' text format, read afresh at each scrape
/// from the video and chat servers: what they count themselves becomes counters (advanced by
/// what changed since the last scrape), what they hold now becomes gauges. A room that is
/// gone loses its series.
final class ServeMetrics: @unchecked Sendable {
    struct Chat: Sendable {
        var clients: Int
        var messagesRelayed: Int
    }

    private let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var counted: [String: Int] = [:]
    private var roomSeries: [String: [Gauge]] = [:]
    private var roomCounters: [String: [Counter]] = [:]
    private var lastChat: (time: TimeInterval, messages: Int)?

    func render(rooms: [RoomStatistics], webrtcSessions: Int, rtspSessions: Int, chat: Chat) -> String {
        lock.withLock {
            update(rooms: rooms, webrtcSessions: webrtcSessions, rtspSessions: rtspSessions, chat: chat)
            return registry.emitToString()
        }
    }

    private func update(rooms: [RoomStatistics], webrtcSessions: Int, rtspSessions: Int, chat: Chat) {
        let live = rooms.filter(\.live)
        gauge("chatcast_rooms_live", [:], "Rooms with a live publisher").set(Double(live.count))
        gauge("chatcast_viewers", ["protocol": "rtsp"], "Viewers watching now, by protocol").set(Double(rooms.reduce(0) { $0 + $1.rtspViewers }))
        gauge("chatcast_viewers", ["protocol": "webrtc"], "Viewers watching now, by protocol").set(Double(rooms.reduce(0) { $0 + $1.webrtcViewers }))
        gauge("chatcast_rtsp_sessions", [:], "RTSP sessions (viewers and publishers)").set(Double(rtspSessions))
        gauge("chatcast_webrtc_sessions", [:], "WHEP sessions, connected or connecting").set(Double(webrtcSessions))
        gauge("chatcast_chat_clients", [:], "Chat connections (IRC over TCP and WebSocket)").set(Double(chat.clients))
        advance("chatcast_chat_messages_total", [:], "Chat messages relayed to rooms", to: chat.messagesRelayed)
        let now = ProcessInfo.processInfo.systemUptime
        if let lastChat, now - lastChat.time >= 0.5 {
            gauge("chatcast_chat_messages_per_second", [:], "Chat messages relayed per second since the previous scrape")
                .set(Double(chat.messagesRelayed - lastChat.messages) / (now - lastChat.time))
        }
        if lastChat == nil || now - lastChat!.time >= 0.5 { lastChat = (now, chat.messagesRelayed) }

        // Totals over every room the server knows now (a room that ended and began again
        // starts from zero: counters only move forward, so the new room's count is added).
        var received = 0, sent = 0, envelopes = 0, droppedEnvelopes = 0, droppedMessages = 0
        for room in rooms {
            received += room.bytesReceived
            sent += room.bytesSent
            envelopes += room.sei.envelopes
            droppedEnvelopes += room.sei.droppedEnvelopes
            droppedMessages += room.sei.droppedMessages
        }
        advance("chatcast_received_bytes_total", [:], "Bytes received from publishers", to: received)
        advance("chatcast_sent_bytes_total", [:], "Payload bytes handed to viewers (RTSP and WebRTC)", to: sent)
        advance("chatcast_sei_envelopes_total", [:], "ChatCast SEI envelopes seen in published video", to: envelopes)
        advance("chatcast_sei_dropped_envelopes_total", [:], "SEI envelopes a reader would drop as malformed", to: droppedEnvelopes)
        advance("chatcast_sei_dropped_messages_total", [:], "Chat messages in SEI a reader would drop as malformed", to: droppedMessages)

        let present = Set(live.map(\.room))
        for gone in Set(roomSeries.keys).subtracting(present) {
            roomSeries.removeValue(forKey: gone)?.forEach(registry.unregisterGauge)
            roomCounters.removeValue(forKey: gone)?.forEach(registry.unregisterCounter)
            counted = counted.filter { !$0.key.hasSuffix("|" + gone) }
        }
        for room in live {
            let labels = ["room": room.room]
            let gauges = [
                gauge("chatcast_room_bitrate_bits_per_second", labels, "The publisher's bit rate over the last seconds"),
                gauge("chatcast_room_frame_rate", labels, "The publisher's video frames per second over the last seconds"),
                gauge("chatcast_room_viewers", labels.merging(["protocol": "rtsp"]) { $1 }, "Viewers of the room, by protocol"),
                gauge("chatcast_room_viewers", labels.merging(["protocol": "webrtc"]) { $1 }, "Viewers of the room, by protocol"),
            ]
            gauges[0].set(room.bitRate)
            gauges[1].set(room.frameRate)
            gauges[2].set(Double(room.rtspViewers))
            gauges[3].set(Double(room.webrtcViewers))
            roomSeries[room.room] = gauges
            roomCounters[room.room] = [
                advance("chatcast_room_frames_total", labels, "Video frames received from the room's publisher", to: room.framesReceived),
                advance("chatcast_room_received_bytes_total", labels, "Bytes received from the room's publisher", to: room.bytesReceived),
                advance("chatcast_room_sei_envelopes_total", labels, "ChatCast SEI envelopes in the room's video", to: room.sei.envelopes),
                advance("chatcast_room_sei_dropped_messages_total", labels, "Chat messages in the room's SEI a reader would drop",
                        to: room.sei.droppedMessages),
            ]
        }
    }

    private func gauge(_ name: String, _ labels: [String: String], _ help: String) -> Gauge {
        registry.makeGauge(name: name, labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, help: help)
    }

    @discardableResult
    private func advance(_ name: String, _ labels: [String: String], _ help: String, to value: Int) -> Counter {
        let counter = registry.makeCounter(name: name, labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, help: help)
        let key = name + "|" + (labels["room"] ?? "")
        let last = counted[key] ?? 0
        counter.increment(by: Int64(value >= last ? value - last : value))
        counted[key] = value
        return counter
    }
}
