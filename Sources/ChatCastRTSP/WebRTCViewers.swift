import Foundation
import Locking

/// The WHEP sessions of a video server (RFC 9725): a browser's offer for a live room gets
/// an answer and a session id, the session ends on DELETE or when its connection or its
/// room ends. Viewers of all kinds share one cap (`maxViewers`, RTSP sessions included).
/// Offers are answered on a serial queue of their own, in steps that never wait (see
/// `WebRTCViewer`): callers on an event loop return at once, and a rush of browsers parks
/// no threads that the rooms' pacers need.
public final class WebRTCViewers: Sendable {
    public struct Settings: Sendable {
        /// "stun://host:port" for browsers on other networks (loopback and LAN need none).
        public var stunServer: String?
        /// "turn(s)://user:password@host:port", each added to every session.
        public var turnServers: [String] = []
        /// Viewers at once, RTSP sessions and WebRTC sessions together.
        public var maxViewers = 64
        /// A session whose peer connection is not up by then is ended.
        public var connectTimeoutSeconds = 30.0
        public init() {}
    }

    /// Why an offer gets no answer, as an HTTP status and a one-line reason.
    public enum Refusal: Error, Equatable, Sendable {
        case roomNotLive(String)
        case badOffer(String)
        case unsupportedRoom(String)
        case full(Int)

        public var status: Int {
            switch self {
            case .roomNotLive: return 404
            case .badOffer: return 400
            case .unsupportedRoom: return 406
            case .full: return 503
            }
        }

        public var reason: String {
            switch self {
            case let .roomNotLive(room): return "#\(room) is not live"
            case let .badOffer(why): return "bad offer: \(why)"
            case let .unsupportedRoom(why): return why
            case let .full(limit): return "this server has its \(limit) viewers"
            }
        }
    }

    private struct Sessions {
        var byID: [String: WebRTCViewer] = [:]
        /// Sessions being answered (they count against the cap before they exist).
        var starting = 0
        var onKeyFrameWanted: (@Sendable (String) -> Void)?
    }

    public let settings: Settings
    private let server: RTSPServer
    private let queue = DispatchQueue(label: "chatcast.whep")
    private let sessions = Mutex(Sessions())

    /// A room's viewer asked for a key frame (room name).
    public var onKeyFrameWanted: (@Sendable (String) -> Void)? {
        get { sessions.withLock { $0.onKeyFrameWanted } }
        set { sessions.withLock { $0.onKeyFrameWanted = newValue } }
    }

    public init(server: RTSPServer, settings: Settings) {
        self.server = server
        self.settings = settings
    }

    public var count: Int { sessions.withLock { $0.byID.count } }

    /// Answers `offer` for `room` off the caller's thread; `completion` gets the session id
    /// and the answer's SDP, or the refusal.
    public func start(room: String, offer: String, completion: @escaping @Sendable (Result<(id: String, answer: String), Refusal>) -> Void) {
        queue.async { [self] in
            guard let bridge = server.liveRoom(room), let plan = bridge.trackPlan else { return completion(.failure(.roomNotLive(room))) }
            let limit = settings.maxViewers, rtspSessions = server.currentSessionCount
            let admitted = sessions.withLock { s -> Bool in
                guard rtspSessions + s.byID.count + s.starting < limit else { return false }
                s.starting += 1
                return true
            }
            guard admitted else { return completion(.failure(.full(settings.maxViewers))) }
            let id = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max)) }.joined()
            let viewer = WebRTCViewer(id: id, bridge: bridge, queue: queue,
                                      onEnded: { [weak self] ended in self?.forget(ended) },
                                      onKeyFrameWanted: { [weak self] in self?.onKeyFrameWanted?(room) })
            let connectTimeout = settings.connectTimeoutSeconds
            viewer.answer(offer: offer, plan: plan, stunServer: settings.stunServer, turnServers: settings.turnServers) { [self] answered in
                let result: Result<(id: String, answer: String), Refusal>
                switch answered {
                case let .success(answer): result = .success((id, answer))
                case let .failure(.badOffer(why)): result = .failure(.badOffer(why))
                case let .failure(.cannotBuild(why)): result = .failure(.unsupportedRoom("#\(room) cannot be sent to a browser: \(why)"))
                }
                sessions.withLock { s in
                    s.starting -= 1
                    if case .success = result { s.byID[id] = viewer }
                }
                if case .success = result {
                    // A browser that never connects (it left, or no candidate pair works) is let go.
                    queue.asyncAfter(deadline: .now() + connectTimeout) { [weak viewer] in viewer?.endUnlessConnected() }
                }
                completion(result)
            }
        }
    }

    /// Ends session `id` of `room`; false when there is none.
    public func end(room: String, id: String) -> Bool {
        let viewer = sessions.withLock { s -> WebRTCViewer? in
            guard let viewer = s.byID[id], viewer.bridge.room == room else { return nil }
            s.byID.removeValue(forKey: id)
            return viewer
        }
        guard let viewer else { return false }
        queue.async { viewer.end() }
        return true
    }

    /// Ends every session (the server is stopping) and waits for them.
    public func stop() {
        queue.sync {
            let all = sessions.withLock { s -> [WebRTCViewer] in
                defer { s.byID = [:] }
                return Array(s.byID.values)
            }
            all.forEach { $0.end() }
        }
    }

    private func forget(_ viewer: WebRTCViewer) {
        sessions.withLock { s in
            if s.byID[viewer.id] === viewer { s.byID.removeValue(forKey: viewer.id) }
        }
    }
}
