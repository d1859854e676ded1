#if canImport(Glibc)
import Glibc
#endif
import ChatIRC
import NIOCore

/// MODE for channels (`+ov` members, `+b` bans, `+imnst`, `+k`, `+l`, `+W` slow mode) and
/// for one's own user modes (`+iw`, `-o`). Changes that applied go to the whole room in one
/// MODE line; each bad part gets its own numeric and the rest still applies.
extension ChatServerCore {
    /// Parameters that one MODE may change (ISUPPORT MODES): more are ignored.
    static let modesPerCommand = 4

    func mode(_ m: IRCMessage, _ client: ClientState) {
        guard let target = m.parameters.first, !target.isEmpty else { return needMore(client, "MODE") }
        guard target.hasPrefix("#") else { return userMode(m, target, client) }
        guard let room = rooms[CaseMapping.fold(target)] else { return reply(client, "403", [target, "No such channel"]) }
        guard m.parameters.count > 1, !m.parameters[1].isEmpty else {
            reply(client, "324", [room.name] + room.modes.text(showKey: room.members[client.id] != nil || client.isOper))
            return reply(client, "329", [room.name, String(room.createdAt)])
        }
        channelMode(room, Array(m.parameters.dropFirst()), client)
    }

    private func channelMode(_ room: RoomState, _ arguments: [String], _ client: ClientState) {
        let isOp = room.operators.contains(client.id) || client.publisher
        var parameters = arguments.dropFirst().makeIterator()
        var adding = true
        var applied: [(on: Bool, letter: Character, parameter: String?)] = []
        var used = 0, toldNotOp = false, unknown = Set<Character>()
        func needOp() -> Bool {
            if isOp { return true }
            if !toldNotOp { reply(client, "482", [room.name, "You're not channel operator"]) }
            toldNotOp = true
            return false
        }
        for letter in arguments[0] {
            switch letter {
            case "+": adding = true
            case "-": adding = false
            case "b":
                guard used < Self.modesPerCommand, let mask = parameters.next() else {
                    if used < Self.modesPerCommand { sendBanList(room, to: client) }
                    continue
                }
                used += 1
                guard needOp() else { continue }
                if let change = changeBan(room, adding, mask, client, expires: nil) { applied.append((adding, "b", change)) }
            case "o", "v":
                guard used < Self.modesPerCommand else { continue }
                guard let nick = parameters.next() else { needMore(client, "MODE"); continue }
                used += 1
                guard needOp() else { continue }
                guard let member = nicks[CaseMapping.fold(nick)] else { reply(client, "401", [nick, "No such nick/channel"]); continue }
                guard room.members[member.id] === member else {
                    reply(client, "441", [member.target, room.name, "They aren't on that channel"]); continue
                }
                let changed = letter == "o"
                    ? (adding ? room.operators.insert(member.id).inserted : room.operators.remove(member.id) != nil)
                    : (adding ? room.voiced.insert(member.id).inserted : room.voiced.remove(member.id) != nil)
                if changed { applied.append((adding, letter, member.target)) }
            case "k":
                guard used < Self.modesPerCommand else { continue }
                let key = parameters.next()
                if adding && key == nil { needMore(client, "MODE"); continue }
                used += 1
                guard needOp() else { continue }
                if adding {
                    guard let key, ChannelModes.isValidKey(key) else {
                        reply(client, "696", [room.name, "k", "*", "Invalid key (no spaces, commas or controls, at most "
                                                                     + "\(ChannelModes.maxKeyLength) bytes)"]); continue
                    }
                    room.modes.key = key
                    applied.append((true, "k", key))
                } else if room.modes.key != nil {
                    room.modes.key = nil
                    applied.append((false, "k", "*"))
                }
            case "l", "W":
                let limit = letter == "l" ? 1_000_000 : ChannelModes.maxSlowSeconds
                if adding {
                    guard used < Self.modesPerCommand else { continue }
                    guard let text = parameters.next() else { needMore(client, "MODE"); continue }
                    used += 1
                    guard needOp() else { continue }
                    guard let n = ChannelModes.parseCount(text, max: limit) else {
                        reply(client, "696", [room.name, String(letter), text, "Must be a whole number from 1 to \(limit)"]); continue
                    }
                    if letter == "l" { room.modes.limit = n } else { room.modes.slowSeconds = n }
                    applied.append((true, letter, String(n)))
                } else {
                    guard needOp() else { continue }
                    let was = letter == "l" ? room.modes.limit : room.modes.slowSeconds
                    if letter == "l" { room.modes.limit = nil } else { room.modes.slowSeconds = nil }
                    if was != nil { applied.append((false, letter, nil)) }
                }
            case "i", "m", "n", "s", "t":
                guard needOp() else { continue }
                if room.modes.flag(letter) != adding {
                    _ = room.modes.setFlag(letter, adding)
                    applied.append((adding, letter, nil))
                }
            default:
                if unknown.insert(letter).inserted { reply(client, "472", [String(letter), "is unknown mode char to me"]) }
            }
        }
        announce(applied, in: room, by: client.source)
    }

    /// One MODE line to the room for what changed (`+o-v alice bob`).
    func announce(_ applied: [(on: Bool, letter: Character, parameter: String?)], in room: RoomState, by source: String) {
        guard !applied.isEmpty else { return }
        var text = "", parameters: [String] = [], sign: Bool?
        for change in applied {
            if sign != change.on { text += change.on ? "+" : "-"; sign = change.on }
            text.append(change.letter)
            if let p = change.parameter { parameters.append(p) }
        }
        broadcast(IRCMessage(source: source, command: "MODE", [room.name, text] + parameters), to: room.orderedMembers)
    }

    /// Adds or removes a ban; the normalised mask when the list changed.
    func changeBan(_ room: RoomState, _ adding: Bool, _ text: String, _ client: ClientState, expires: NIODeadline?) -> String? {
        guard let mask = BanMask(text) else {
            reply(client, "696", [room.name, "b", String(text.prefix(64)), "Invalid ban mask"])
            return nil
        }
        if let i = room.bans.firstIndex(where: { CaseMapping.fold($0.mask.mask) == CaseMapping.fold(mask.mask) }) {
            if adding {
                // Re-banning sets (or clears) the expiry: TBAN on a ban makes it timed.
                room.bans[i].expires = expires
                return nil
            }
            room.bans.remove(at: i)
            return mask.mask
        }
        guard adding else { return nil }
        guard room.bans.count < config.maxListEntries else {
            reply(client, "478", [room.name, mask.mask, "Channel ban list is full"])
            return nil
        }
        room.bans.append(BanEntry(mask: mask, setBy: client.source, setAt: Int(time(nil)), expires: expires))
        return mask.mask
    }

    func sendBanList(_ room: RoomState, to client: ClientState) {
        for ban in room.bans { reply(client, "367", [room.name, ban.mask.mask, ban.setBy, String(ban.setAt)]) }
        reply(client, "368", [room.name, "End of channel ban list"])
    }

    /// Timed bans whose time is up are lifted, announced like a `-b` by the server.
    func expireBans() {
        let t = now()
        for room in rooms.values where room.bans.contains(where: { $0.expires.map { $0 <= t } ?? false }) {
            var lifted: [(on: Bool, letter: Character, parameter: String?)] = []
            room.bans.removeAll { ban in
                guard let expires = ban.expires, expires <= t else { return false }
                lifted.append((false, "b", ban.mask.mask))
                return true
            }
            for chunk in stride(from: 0, to: lifted.count, by: Self.modesPerCommand) {
                announce(Array(lifted[chunk..<min(lifted.count, chunk + Self.modesPerCommand)]), in: room, by: config.serverName)
            }
        }
    }

    private func userMode(_ m: IRCMessage, _ target: String, _ client: ClientState) {
        guard let subject = nicks[CaseMapping.fold(target)] else { return reply(client, "401", [target, "No such nick/channel"]) }
        guard subject === client else { return reply(client, "502", ["Can't change mode for other users"]) }
        guard m.parameters.count > 1 else { return reply(client, "221", [userModes(client)]) }
        var adding = true, changed = "", sign: Bool?, unknown = false
        for letter in m.parameters[1] {
            switch letter {
            case "+": adding = true
            case "-": adding = false
            case "i": continue  // every user is +i here (no one is listed to strangers)
            case "w":
                guard client.wallops != adding else { continue }
                client.wallops = adding
                if sign != adding { changed += adding ? "+" : "-"; sign = adding }
                changed += "w"
            case "o":
                // Only OPER gives +o; dropping it is allowed.
                guard !adding, client.isOper else { continue }
                client.isOper = false
                if sign != false { changed += "-"; sign = false }
                changed += "o"
            default: unknown = true
            }
        }
        if unknown { reply(client, "501", ["Unknown MODE flag"]) }
        if !changed.isEmpty { send(IRCMessage(source: client.source, command: "MODE", [client.target, changed]), to: client) }
    }

    func userModes(_ client: ClientState) -> String {
        "+i" + (client.isOper ? "o" : "") + (client.wallops ? "w" : "")
    }
}
