import ChatCastSEI
import ChatIRC
import Dispatch
import GstSwift
import Locking

/// chatsink's link to an IRC room: remembers the msgids the room has (history and live),
/// and forwards chat from the stream that is not among them as `<nick> text`, so chat
/// that came from the room does not go back to it (nor do our own forwards, which a
/// chatinject in the same room carries under our nick). Nothing is decided before the
/// room's history is in: until then stream chat waits, at most `maxWaiting` messages (the
/// oldest go first, counted in `drops`, as the client's own queue while disconnected).
final class Forwarder: Sendable {
    private let client: IRCClient
    private let nick: String
    private let state: ForwarderState
    private let outbox: ClientBox

    init(options: IRCClient.Options, room: String, element: ElementRef, drops: DropCounter) {
        nick = CaseMapping.fold(options.nick)
        state = ForwarderState(maxWaiting: options.maxQueued, onDrop: { drops.dropped($0, element: element, property: "dropped") })
        let state = self.state
        // Filled in below: events can only arrive after `start`.
        let box = ClientBox(room: room)
        outbox = box
        client = IRCClient(options: options) { event in
            switch event {
            case let .message(m, _): state.know(m.id)
            case .joined:
                // Servers without history send no batch: give them a moment, then go.
                DispatchQueue.global().asyncAfter(deadline: .now() + 1) { box.send(state.ready(), then: state) }
            case .historyEnd: box.send(state.ready(), then: state)
            case let .disconnected(reason): ChatSink.log.warning(element, "chat server: \(reason); reconnecting")
            case let .unsent(count): drops.dropped(count, element: element, property: "dropped")
            default: break
            }
        }
        box.client.withLock { $0 = client }
        client.start()
    }

    func forward(_ messages: [ChatMessage]) {
        // Our own forwards come back through a chatinject in the same room under our nick.
        let fresh = messages.filter { CaseMapping.fold($0.nick) != nick }
        outbox.send(state.take(fresh))
    }

    /// Waits (up to 10 s: a short clip can end before a loaded machine has even joined) for
    /// the room's history so that waiting chat is decided and sent, then leaves.
    func stop() {
        state.waitUntilReady(seconds: 10)
        client.stop()
    }
}

/// Ids the room has and stream chat waiting for the history.
private final class ForwarderState: Sendable {
    private struct Inner {
        var known = RecentIDs(capacity: 4096)
        var ready = false
        var waiting: [ChatMessage] = []
    }
    private let inner = Mutex(Inner())
    private let readySignal = DispatchSemaphore(value: 0)
    private let maxWaiting: Int
    private let onDrop: @Sendable (Int) -> Void

    init(maxWaiting: Int, onDrop: @escaping @Sendable (Int) -> Void) {
        self.maxWaiting = max(1, maxWaiting)
        self.onDrop = onDrop
    }

    func know(_ id: String) { inner.withLock { _ = $0.known.insert(id) } }

    /// Messages to send now: new ids once ready; none before (they wait).
    func take(_ messages: [ChatMessage]) -> [ChatMessage] {
        var over = 0
        let out = inner.withLock { s -> [ChatMessage] in
            guard s.ready else {
                s.waiting += messages
                over = max(0, s.waiting.count - maxWaiting)
                s.waiting.removeFirst(over)
                return []
            }
            return messages.filter { s.known.insert($0.id) }
        }
        onDrop(over)
        return out
    }

    /// Marks the history as in and returns the waiting messages that the room lacks; `sent`
    /// says when they are with the client, so that a stop waiting for them goes on.
    func ready() -> [ChatMessage] {
        inner.withLock { s -> [ChatMessage] in
            s.ready = true
            defer { s.waiting = [] }
            return s.waiting.filter { s.known.insert($0.id) }
        }
    }

    /// The messages `ready` released are with the client (queued before any stop's QUIT).
    func sent() { readySignal.signal() }

    func waitUntilReady(seconds: Double) {
        _ = readySignal.wait(timeout: .now() + seconds)
        readySignal.signal()  // for the next wait
    }
}

/// Sends forwarded chat to the room as `<nick> text`; shared with the client's event handler.
private final class ClientBox: Sendable {
    let client = Mutex<IRCClient?>(nil)
    let room: String
    init(room: String) { self.room = room }

    func send(_ messages: [ChatMessage]) {
        guard let c = client.withLock({ $0 }) else { return }
        for m in messages { c.send(room: room, text: "<\(m.nick)> \(m.text)") }
    }

    /// Sends what `ready` released, then lets a waiting stop go on.
    func send(_ messages: [ChatMessage], then state: ForwarderState) {
        send(messages)
        state.sent()
    }
}
