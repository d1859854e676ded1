import ChatIRC

/// IRCv3 `draft/chathistory`: LATEST, BEFORE, AFTER, AROUND, BETWEEN with `msgid=` and
/// `timestamp=` references, read from the store off the event loop and sent as one
/// `chathistory` batch. Only a room's members read its history.
extension ChatServerCore {
    static let chathistoryMax = 100

    func chathistory(_ m: IRCMessage, _ client: ClientState) {
        func fail(_ code: String, _ extra: [String], _ text: String) {
            send(IRCMessage(source: config.serverName, command: "FAIL", ["CHATHISTORY", code] + extra + [text]), to: client)
        }
        guard let sub = m.parameters.first?.uppercased(), !sub.isEmpty else { return needMore(client, "CHATHISTORY") }
        let between = sub == "BETWEEN"
        guard ["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN"].contains(sub) else {
            return fail(sub == "TARGETS" ? "INVALID_PARAMS" : "UNKNOWN_COMMAND", [String(sub.prefix(20))], "Unknown subcommand")
        }
        guard m.parameters.count >= (between ? 5 : 4) else { return fail("INVALID_PARAMS", [sub], "Not enough parameters") }
        let target = m.parameters[1]
        guard let limit = ChannelModes.parseCount(m.parameters[between ? 4 : 3], max: Int.max / 2) else {
            return fail("INVALID_PARAMS", [sub], "The limit must be a positive whole number")
        }
        let count = min(limit, Self.chathistoryMax)
        func anchor(_ text: String) -> HistoryQuery.Anchor? {
            if text.hasPrefix("msgid="), text.utf8.count > 6, text.utf8.count <= 100 { return .msgid(String(text.dropFirst(6))) }
            if text.hasPrefix("timestamp="), Self.isTimestamp(text.dropFirst(10)) { return .time(String(text.dropFirst(10))) }
            return nil
        }
        let reference = m.parameters[2]
        let query: HistoryQuery
        switch sub {
        case "LATEST":
            if reference == "*" { query = .latest(after: nil, limit: count) } else {
                guard let a = anchor(reference) else { return fail("INVALID_PARAMS", [sub, reference], "Bad message reference") }
                query = .latest(after: a, limit: count)
            }
        case "BETWEEN":
            guard let a = anchor(reference), let b = anchor(m.parameters[3]) else {
                return fail("INVALID_PARAMS", [sub], "Bad message reference")
            }
            query = .between(a, b, limit: count)
        default:
            guard let a = anchor(reference) else { return fail("INVALID_PARAMS", [sub, reference], "Bad message reference") }
            query = sub == "BEFORE" ? .before(a, limit: count) : sub == "AFTER" ? .after(a, limit: count) : .around(a, limit: count)
        }
        guard target.hasPrefix("#") else {
            // Private messages are not kept: an empty history.
            guard nicks[CaseMapping.fold(target)] != nil else { return fail("INVALID_TARGET", [sub, target], "No such nick") }
            return sendHistoryBatch([], target: nicks[CaseMapping.fold(target)]!.target, to: client, label: nil)
        }
        let key = CaseMapping.fold(target)
        guard let room = rooms[key], room.members[client.id] === client else {
            return fail("INVALID_TARGET", [sub, target], "You are not on that channel")
        }
        // The answer comes after this command's handling ends: it carries the label itself.
        let label = client.label
        if label != nil { client.labelAnswered = true }
        let name = room.name
        // The client's next lines wait for this answer (replies stay in the order asked).
        client.echoesPending += 1
        let asker = bound(client)
        store.history(channelKey: key, query) { result in
            self.onLoop {
                let client = asker.value
                defer { self.echoSent(to: client) }
                switch result {
                case let .success(messages):
                    self.sendHistoryBatch(messages, target: name, to: client, label: client.labeled == nil ? label : nil)
                case .failure:
                    self.send(IRCMessage(source: self.config.serverName, command: "FAIL",
                                         ["CHATHISTORY", "MESSAGE_ERROR", sub, name, "History is unavailable"]), to: client)
                }
            }
        }
    }

    private func sendHistoryBatch(_ messages: [StoredMessage], target: String, to client: ClientState, label: String?) {
        let batch = client.has("batch") ? "c\(nextMsgid())" : nil
        if let batch {
            send(IRCMessage(tags: label.map { [.init("label", $0)] } ?? [], source: config.serverName, command: "BATCH",
                            ["+\(batch)", "chathistory", target]), to: client)
        }
        for h in messages {
            var tags = [IRCMessage.Tag("time", h.time), IRCMessage.Tag("msgid", h.msgid)]
            if let batch { tags.append(IRCMessage.Tag("batch", batch)) }
            send(IRCMessage(tags: tags, source: h.source, command: "PRIVMSG", [target, h.text]), to: client)
        }
        if let batch { send(IRCMessage(source: config.serverName, command: "BATCH", ["-\(batch)"]), to: client) }
    }

    /// `2026-11-25T12:00:00.000Z`-shaped (what `server-time` gives): compared as text.
    static func isTimestamp(_ text: Substring) -> Bool {
        text.utf8.count >= 20 && text.utf8.count <= 30 && text.hasSuffix("Z") && text.first?.isNumber == true
            && text.allSatisfy { $0.isASCII && ($0.isNumber || "-:.TZ".contains($0)) }
    }
}
