import ChatCastRTSP
import Foundation
import Prometheus
import Locking

/// `/metrics` of `chatcast serve` in Prometheus' text format, read afresh at each scrape
/// from the video and chat servers: what they count themselves becomes counters (advanced by
/// what changed since the last scrape), what they hold now becomes gauges. A room that is
/// gone loses its series.
final class ServeMetrics: Sendable {
    struct Chat: Sendable {
        var clients: Int
        var messagesRelayed: Int
    }

    /// What one scrape leaves for the next.
    private struct State {
        var counted: [String: Int] = [:]
        var roomSeries: [String: [Gauge]] = [:]
        var roomCounters: [String: [Counter]] = [:]
        var lastChat: (time: TimeInterval, messages: Int)?
    }

    private let registry = PrometheusCollectorRegistry()
    private let state = Mutex(State())

    func render(rooms: [RoomStatistics], webrtcSessions: Int, rtspSessions: Int, chat: Chat) -> String {
        state.withLock { s in
            update(&s, rooms: rooms, webrtcSessions: webrtcSessions, rtspSessions: rtspSessions, chat: chat)
            return registry.emitToString()
        }
    }

    private func update(_ s: inout State, rooms: [RoomStatistics], webrtcSessions: Int, rtspSessions: Int, chat: Chat) {
        func advance(_ name: String, _ labels: [String: String], _ help: String, to value: Int) -> Counter {
            self.advance(&s, name, labels, help, to: value)
        }
        let live = rooms.filter(\.live)
        gauge("chatcast_rooms_live", [:], "Rooms with a live publisher").set(Double(live.count))
        gauge("chatcast_viewers", ["protocol": "rtsp"], "Viewers watching now, by protocol").set(Double(rooms.reduce(0) { $0 + $1.rtspViewers }))
        gauge("chatcast_viewers", ["protocol": "webrtc"], "Viewers watching now, by protocol").set(Double(rooms.reduce(0) { $0 + $1.webrtcViewers }))
        gauge("chatcast_rtsp_sessions", [:], "RTSP sessions (viewers and publishers)").set(Double(rtspSessions))
        gauge("chatcast_webrtc_sessions", [:], "WHEP sessions, connected or connecting").set(Double(webrtcSessions))
        gauge("chatcast_chat_clients", [:], "Chat connections (IRC over TCP and WebSocket)").set(Double(chat.clients))
        _ = advance("chatcast_chat_messages_total", [:], "Chat messages relayed to rooms", to: chat.messagesRelayed)
        let now = ProcessInfo.processInfo.systemUptime
        if let lastChat = s.lastChat, now - lastChat.time >= 0.5 {
            gauge("chatcast_chat_messages_per_second", [:], "Chat messages relayed per second since the previous scrape")
                .set(Double(chat.messagesRelayed - lastChat.messages) / (now - lastChat.time))
        }
        if s.lastChat == nil || now - s.lastChat!.time >= 0.5 { s.lastChat = (now, chat.messagesRelayed) }

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
        _ = advance("chatcast_received_bytes_total", [:], "Bytes received from publishers", to: received)
        _ = advance("chatcast_sent_bytes_total", [:], "Payload bytes handed to viewers (RTSP and WebRTC)", to: sent)
        _ = advance("chatcast_sei_envelopes_total", [:], "ChatCast SEI envelopes seen in published video", to: envelopes)
        _ = advance("chatcast_sei_dropped_envelopes_total", [:], "SEI envelopes a reader would drop as malformed", to: droppedEnvelopes)
        _ = advance("chatcast_sei_dropped_messages_total", [:], "Chat messages in SEI a reader would drop as malformed", to: droppedMessages)
        _ = advance("chatcast_pacer_late_ticks_total", [:], "Ticks of a room's pacer (every 10 ms while a viewer starts) 50 ms or more late",
                to: rooms.reduce(0) { $0 + $1.pacerLateTicks })
        gauge("chatcast_pacer_longest_gap_seconds", [:], "Longest gap between two ticks of any room's pacer")
            .set(rooms.map(\.pacerLongestGapSeconds).max() ?? 0)

        let present = Set(live.map(\.room))
        for gone in Set(s.roomSeries.keys).subtracting(present) {
            s.roomSeries.removeValue(forKey: gone)?.forEach(registry.unregisterGauge)
            s.roomCounters.removeValue(forKey: gone)?.forEach(registry.unregisterCounter)
            s.counted = s.counted.filter { !$0.key.hasSuffix("|" + gone) }
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
            s.roomSeries[room.room] = gauges
            s.roomCounters[room.room] = [
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

    private func advance(_ s: inout State, _ name: String, _ labels: [String: String], _ help: String, to value: Int) -> Counter {
        let counter = registry.makeCounter(name: name, labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, help: help)
        let key = name + "|" + (labels["room"] ?? "")
        let last = s.counted[key] ?? 0
        counter.increment(by: Int64(value >= last ? value - last : value))
        s.counted[key] = value
        return counter
    }
}
