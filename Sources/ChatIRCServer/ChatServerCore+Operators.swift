import ChatIRC

/// Server operators: OPER (names and passwords from the config), KILL, WALLOPS.
extension ChatServerCore {
    func oper(_ m: IRCMessage, _ client: ClientState) {
        guard m.parameters.count >= 2 else { return needMore(client, "OPER") }
        guard let stored = config.operators[m.parameters[0]] else { return reply(client, "491", ["No O-lines for your host"]) }
        guard ServerOperators.check(m.parameters[1], against: stored) else { return reply(client, "464", ["Password incorrect"]) }
        guard !client.isOper else { return reply(client, "381", ["You are now an IRC operator"]) }
        client.isOper = true
        client.wallops = true
        operName[client.id] = m.parameters[0]
        reply(client, "381", ["You are now an IRC operator"])
        send(IRCMessage(source: client.source, command: "MODE", [client.target, "+ow"]), to: client)
    }

    func kill(_ m: IRCMessage, _ client: ClientState) {
        guard client.isOper else { return reply(client, "481", ["Permission Denied- You're not an IRC operator"]) }
        guard m.parameters.count >= 1, !m.parameters[0].isEmpty else { return needMore(client, "KILL") }
        guard let victim = nicks[CaseMapping.fold(m.parameters[0])] else {
            return reply(client, "401", [m.parameters[0], "No such nick/channel"])
        }
        let reason = m.parameters.count > 1 ? String(ChatText.strippingControls(m.parameters[1]).prefix(200)) : "No reason"
        send(IRCMessage(source: client.source, command: "KILL", [victim.target, reason]), to: victim)
        drop(victim, reason: "Killed (\(client.target) (\(reason)))")
    }

    func wallops(_ m: IRCMessage, _ client: ClientState) {
        guard client.isOper else { return reply(client, "481", ["Permission Denied- You're not an IRC operator"]) }
        guard let text = m.parameters.first, !text.isEmpty else { return needMore(client, "WALLOPS") }
        let message = IRCMessage(source: client.source, command: "WALLOPS", [ChatText.strippingControls(text)])
        broadcast(message, to: clients.values.filter { $0.registered && $0.wallops }.sorted { $0.id < $1.id })
    }
}
