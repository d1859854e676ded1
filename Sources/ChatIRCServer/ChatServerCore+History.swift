import ChatIRC
import NIOCore

/// A room's history on JOIN: read from the store off the event loop (never a blocking read
/// on the loop), replayed once it arrives. Chat that arrives while the read is in flight is
/// held for the members waiting on it and sent after their replay: nothing is lost, nothing
/// shows twice, and the order stays the order it was said in.
final class HistoryLoad {
    /// Members that joined while loading (client ids), in join order.
    var waiters: [ClientState] = []
    /// Live messages of the room since the read started, oldest first.
    var arrivals: [(message: IRCMessage, sender: ClientState, stored: StoredMessage?)] = []
    /// Msgids whose commit came back while loading: the sender's echo goes out with the replay.
    var committed: Set<String> = []
    /// Msgids redacted while loading: the read may predate their deletion.
    var redacted: Set<String> = []
    /// Held messages beyond this are dropped oldest first (rate limits make it unreachable
    /// unless the store hangs; the server's memory stays bounded even then).
    static let maxArrivals = 2000

    func isWaiting(_ client: ClientState) -> Bool { waiters.contains { $0 === client } }
}

extension ChatServerCore {
    /// Replays the room's history to a member that just joined: at once when the room's
    /// history is in memory, else after the store's read (started here on the first JOIN).
    func replayHistory(_ room: RoomState, to client: ClientState) {
        eventLoop.assertInEventLoop()
        if let cached = room.recent { return sendHistory(cached, of: room, to: client) }
        // Until its replay is out, the client's next lines wait (see `echoSent`): a PING sent
        // after JOIN is answered after the history, as it would be from memory.
        if let load = room.loading {
            if !load.isWaiting(client) {
                load.waiters.append(client)
                client.echoesPending += 1
            }
            return
        }
        let load = HistoryLoad()
        load.waiters.append(client)
        client.echoesPending += 1
        room.loading = load
        let key = CaseMapping.fold(room.name)
        let loading = bound(room)
        store.history(channelKey: key, .latest(after: nil, limit: config.historyReplay)) { result in
            self.onLoop { self.historyLoaded(result, room: loading.value, key: key) }
        }
    }

    private func historyLoaded(_ result: Result<[StoredMessage], Error>, room: RoomState, key: String) {
        guard let load = room.loading else { return }
        room.loading = nil
        // Whatever happened, each waiter's held lines go on (even those who left meanwhile).
        defer { for client in load.waiters { echoSent(to: client) } }
        // The room emptied (and may have been made again) while the read was in flight.
        guard rooms[key] === room else { return }
        let held = Set(load.arrivals.compactMap { $0.stored?.msgid })
        var stored: [StoredMessage] = []
        var failure: Error?
        switch result {
        case let .success(messages): stored = messages.filter { !held.contains($0.msgid) && !load.redacted.contains($0.msgid) }
        case let .failure(error): failure = error
        }
        room.recent = Array((stored + load.arrivals.compactMap(\.stored)).suffix(config.historyReplay))
        for client in load.waiters where room.members[client.id] === client && !client.closing {
            if let failure {
                send(IRCMessage(source: config.serverName, command: "NOTICE", [client.target, "History is unavailable: \(failure)"]),
                     to: client)
            } else {
                sendHistory(stored, of: room, to: client)
            }
            for arrival in load.arrivals {
                if arrival.sender !== client {
                    send(arrival.message, to: client)
                } else if client.has("echo-message"), let msgid = arrival.stored?.msgid ?? arrival.message.tag("msgid"),
                          load.committed.contains(msgid) {
                    send(arrival.message, to: client)
                }
            }
        }
    }

    /// Live chat in a room: to every member, except those still waiting for their replay
    /// (they get it right after it).
    func deliver(_ message: IRCMessage, stored: StoredMessage?, in room: RoomState, from sender: ClientState) {
        if let load = room.loading {
            broadcast(message, to: room.orderedMembers.filter { !load.isWaiting($0) }, except: sender)
            load.arrivals.append((message, sender, stored))
            if load.arrivals.count > HistoryLoad.maxArrivals { load.arrivals.removeFirst() }
        } else {
            broadcast(message, to: room.orderedMembers, except: sender)
            if let stored, room.recent != nil {
                room.recent!.append(stored)
                if room.recent!.count > config.historyReplay { room.recent!.removeFirst() }
            }
        }
    }

    /// The sender's echo once the message is stored; held while the sender still waits for
    /// the room's replay (it goes out after it, in order).
    func echo(_ message: IRCMessage, msgid: String, in key: String, to client: ClientState) {
        if let load = rooms[key]?.loading, load.isWaiting(client) {
            load.committed.insert(msgid)
            return
        }
        if client.has("echo-message") { send(message, to: client) }
    }

    /// The last messages of the room: a `chathistory` batch for clients that took `batch`,
    /// plain PRIVMSGs (with `server-time` tags where taken) otherwise.
    func sendHistory(_ history: [StoredMessage], of room: RoomState, to client: ClientState) {
        // A room that lives for days keeps its replay in memory: what retention has deleted
        // from the store is not replayed from there either.
        let history = config.historyRetention.cutoff().map { cutoff in history.filter { $0.time >= cutoff } } ?? history
        guard !history.isEmpty else { return }
        let batch = client.has("batch") ? "h\(nextMsgid())" : nil
        if let batch {
            send(IRCMessage(source: config.serverName, command: "BATCH", ["+\(batch)", "chathistory", room.name]), to: client)
        }
        for h in history {
            var tags = [IRCMessage.Tag("time", h.time), IRCMessage.Tag("msgid", h.msgid)]
            if let batch { tags.append(IRCMessage.Tag("batch", batch)) }
            send(IRCMessage(tags: tags, source: h.source, command: "PRIVMSG", [room.name, h.text]), to: client)
        }
        if let batch { send(IRCMessage(source: config.serverName, command: "BATCH", ["-\(batch)"]), to: client) }
    }
}
