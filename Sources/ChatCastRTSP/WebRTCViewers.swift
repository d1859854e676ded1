import Foundation

/// The WHEP sessions of a video server (RFC 9725): a browser's offer for a live room gets
/// an answer and a session id, the session ends on DELETE or when its connection or its
/// room ends. Viewers of all kinds share one cap (`maxViewers`, RTSP sessions included).
public final class WebRTCViewers: @unchecked Sendable {
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

    public let settings: Settings
    private let server: RTSPServer
    private let queue = DispatchQueue(label: "chatcast.webrtc", attributes: .concurrent)
    private let lock = NSLock()
    private var sessions: [String: WebRTCViewer] = [:]
    /// Sessions being answered (they count against the cap before they exist).
    private var starting = 0

    /// A room's viewer asked for a key frame (room name).
    public var onKeyFrameWanted: (@Sendable (String) -> Void)?

    public init(server: RTSPServer, settings: Settings) {
        self.server = server
        self.settings = settings
    }

    public var count: Int { lock.withLock { sessions.count } }

    /// Answers `offer` for `room` off the caller's thread; `completion` gets the session id
    /// and the answer's SDP, or the refusal.
    public func start(room: String, offer: String, completion: @escaping @Sendable (Result<(id: String, answer: String), Refusal>) -> Void) {
        guard let bridge = server.liveRoom(room), let plan = bridge.trackPlan else { return completion(.failure(.roomNotLive(room))) }
        let limit = settings.maxViewers, rtspSessions = server.sessionCount
        let admitted = lock.withLock { () -> Bool in
            guard rtspSessions + sessions.count + starting < limit else { return false }
            starting += 1
            return true
        }
        guard admitted else { return completion(.failure(.full(settings.maxViewers))) }
        let id = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max)) }.joined()
        let viewer = WebRTCViewer(id: id, bridge: bridge, queue: queue)
        viewer.onEnded = { [weak self] ended in self?.forget(ended) }
        viewer.onKeyFrameWanted = { [weak self] in self?.onKeyFrameWanted?(room) }
        let sessionSettings = self.settings
        queue.async { [self] in
            let result: Result<(id: String, answer: String), Refusal>
            do {
                let answer = try viewer.answer(offer: offer, plan: plan, stunServer: sessionSettings.stunServer, turnServers: sessionSettings.turnServers,
                                               connectTimeout: sessionSettings.connectTimeoutSeconds)
                result = .success((id, answer))
            } catch WebRTCViewer.Failure.badOffer(let why) {
                result = .failure(.badOffer(why))
            } catch WebRTCViewer.Failure.cannotBuild(let why) {
                result = .failure(.unsupportedRoom("#\(room) cannot be sent to a browser: \(why)"))
            } catch {
                result = .failure(.unsupportedRoom("#\(room) cannot be sent to a browser: \(error)"))
            }
            lock.withLock {
                starting -= 1
                if case .success = result { sessions[id] = viewer }
            }
            if case .failure = result { viewer.end() }
            completion(result)
        }
    }

    /// Ends session `id` of `room`; false when there is none.
    public func end(room: String, id: String) -> Bool {
        let viewer = lock.withLock { () -> WebRTCViewer? in
            guard let viewer = sessions[id], viewer.bridge.room == room else { return nil }
            sessions.removeValue(forKey: id)
            return viewer
        }
        guard let viewer else { return false }
        queue.async { viewer.end() }
        return true
    }

    /// Ends every session (the server is stopping) and waits for them.
    public func stop() {
        let all = lock.withLock { () -> [WebRTCViewer] in
            defer { sessions = [:] }
            return Array(sessions.values)
        }
        all.forEach { $0.end() }
    }

    private func forget(_ viewer: WebRTCViewer) {
        lock.withLock {
            if sessions[viewer.id] === viewer { sessions.removeValue(forKey: viewer.id) }
        }
    }
}
