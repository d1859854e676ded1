import ChatIRC

/// IRCv3 `labeled-response`: the replies to a command sent with a `label` tag carry it —
/// one reply tagged, several in a `labeled-response` batch, none an `ACK`. Replies are
/// gathered while the command is handled (`send` and `broadcast` check `labeled`).
extension ChatServerCore {
    func handleLabeled(_ m: IRCMessage, from client: ClientState) {
        guard client.has("labeled-response"), let label = m.tag("label") else { return dispatch(m, from: client) }
        guard !label.isEmpty, label.utf8.count <= 64 else {
            return send(IRCMessage(source: config.serverName, command: "FAIL", [m.command, "INVALID_LABEL", "Labels are 1 to 64 bytes"]),
                        to: client)
        }
        client.label = label
        client.labeled = []
        client.labelAnswered = false
        dispatch(m, from: client)
        let replies = client.labeled ?? []
        let answered = client.labelAnswered
        client.label = nil
        client.labeled = nil
        client.labelAnswered = false
        switch replies.count {
        case 0:
            if !answered { send(IRCMessage(tags: [.init("label", label)], source: config.serverName, command: "ACK"), to: client) }
        case 1:
            var only = replies[0]
            only.tags.append(.init("label", label))
            send(only, to: client)
        default:
            guard client.has("batch") else {
                // Without `batch` the first line carries the label and the rest follow plain.
                var first = replies[0]
                first.tags.append(.init("label", label))
                send(first, to: client)
                for r in replies.dropFirst() { send(r, to: client) }
                return
            }
            let id = "L\(nextMsgid())"
            send(IRCMessage(tags: [.init("label", label)], source: config.serverName, command: "BATCH", ["+\(id)", "labeled-response"]),
                 to: client)
            for var r in replies {
                if r.tag("batch") == nil { r.tags.append(.init("batch", id)) }
                send(r, to: client)
            }
            send(IRCMessage(source: config.serverName, command: "BATCH", ["-\(id)"]), to: client)
        }
    }

    /// The message with the label of the command being handled (a reply sent after it ends).
    func labeled(_ m: IRCMessage, _ client: ClientState) -> IRCMessage {
        guard let label = client.label else { return m }
        var copy = m
        copy.tags.append(.init("label", label))
        return copy
    }
}
