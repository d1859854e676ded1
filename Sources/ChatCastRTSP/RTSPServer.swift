import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer
import Foundation

/// gst-rtsp-server on its own GLib main-loop thread (the original program's "Stream Video
/// to Server" did the same beside its chat), with the defaults Debian's 1.22.0 leaves
/// unsafe changed: bounded request bodies, a session cap, expired sessions reaped, PLAY
/// Scale/Speed judged before the media sees them. Rooms: a publisher RECORDs to
/// `/ROOM` and viewers PLAY the same path (bridged in process, see `RoomBridge`).
public final class RTSPServer: @unchecked Sendable {
    public struct Credentials: Sendable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    public struct Settings: Sendable {
        public var address = "127.0.0.1"
        /// 0 picks a free port; `port` tells which after `start`.
        public var port = 8554
        public var maxSessions = 64
        /// RTSP requests carry no large bodies; 1.22 accepts any size by default.
        public var contentLengthLimit = 16 * 1024
        public var cleanupIntervalSeconds: UInt32 = 2
        /// Publishers must give these for ANNOUNCE/RECORD (401 otherwise); nil lets anyone publish.
        public var publisher: Credentials?
        /// PEM certificate and key: RTSPS.
        public var tlsCertificate: String?
        public var tlsKey: String?
        /// Jitter buffer of a publisher's stream, in milliseconds.
        public var recordLatencyMs: UInt32 = 100
        /// Rooms that may exist at once (each costs two mount points).
        public var maxRooms = 256
        /// Threads serving clients. 1.22's default (none: every client on the server's own
        /// thread) lets one DESCRIBE waiting for its media stall everyone, including the
        /// publisher whose TCP-interleaved data that media waits for.
        public var clientThreads: Int32 = 16
        /// Connections the kernel holds until the server accepts them. 1.22 listens with a
        /// queue of 5: a room announced in chat brings its viewers all at once, and those
        /// beyond the queue waited for TCP to retry (1, 3, then 7 s). Capped by the system
        /// (net.core.somaxconn).
        public var listenBacklog: Int32 = 1024
        /// Where live rooms are recorded (nil: nowhere), which ones (nil: all), and when a
        /// file is cut (seconds; bytes, 0 for no limit).
        public var recordDirectory: String?
        public var recordedRooms: Set<String>?
        public var recordSegmentSeconds = 3600
        public var recordSegmentBytes = 0
        public init() {}
    }

    public enum Failure: Error, CustomStringConvertible {
        case cannotListen(String, Int)
        case badCertificate(String)
        public var description: String {
            switch self {
            case let .cannotListen(address, port):
                return "the RTSP server cannot listen on \(address):\(port) (port in use, or address not on this machine)"
            case let .badCertificate(reason):
                return "cannot use the TLS certificate: \(reason)"
            }
        }
    }

    /// A room's stream started (room name, URL to play) or ended. Called off the server's thread.
    public var onRoomLive: (@Sendable (String, String) -> Void)?
    public var onRoomEnded: (@Sendable (String) -> Void)?
    /// A viewer starts or resumes a room: its publisher should send a key frame now (1.22's
    /// rtspclientsink ignores the RTCP request; ChatCast publishers take it over chat).
    public var onKeyFrameWanted: (@Sendable (String) -> Void)?
    /// A room's recording could not start (room, reason); the room still plays.
    public var onRecordingFailed: (@Sendable (String, String) -> Void)?
    /// A viewer or a recording of a room cannot keep up and lost buffers (room, who, how many
    /// so far): told at the first drop and then at most every 10 s.
    public var onBufferDrops: (@Sendable (String, String, Int) -> Void)?

    public let settings: Settings
    private let server: UnsafeMutablePointer<GstRTSPServer>
    private let context: OpaquePointer
    private let loop: OpaquePointer
    private var sources: [UInt32] = []
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var rooms: [String: RoomBridge] = [:]
    private var playOnlyPaths: Set<String> = []
    public private(set) var port = 0

    public init(settings: Settings = Settings()) throws {
        self.settings = settings
        gst_init(nil, nil)
        server = cgst_rtsp_room_server_new(RTSPServer.announceHook, RTSPServer.playHook)!
        context = g_main_context_new()
        loop = g_main_loop_new(context, 0)
        gst_rtsp_server_set_address(server, settings.address)
        gst_rtsp_server_set_service(server, String(settings.port))
        gst_rtsp_server_set_content_length_limit(server, guint(settings.contentLengthLimit))
        gst_rtsp_server_set_backlog(server, settings.listenBacklog)
        let pool = gst_rtsp_server_get_session_pool(server)
        gst_rtsp_session_pool_set_max_sessions(pool, guint(settings.maxSessions))
        g_object_unref(pool)
        let threads = gst_rtsp_server_get_thread_pool(server)
        gst_rtsp_thread_pool_set_max_threads(threads, settings.clientThreads)
        g_object_unref(threads)
        try installAuth()
        // Clients may close on a pool thread after this object is gone (the demo stops its
        // server as its publisher hangs up): the hooks reach it through a weak reference in a
        // box that is never freed (one per server).
        let target = HookTarget()
        target.server = self
        cgst_rtsp_room_server_set_user_data(server, Unmanaged.passRetained(target).toOpaque())
        cgst_rtsp_room_server_set_announcer_gone(server, RTSPServer.announcerGoneHook)
    }

    deinit {
        stop()
        g_main_loop_unref(loop)
        g_main_context_unref(context)
        g_object_unref(server)
    }

    public var scheme: String { settings.tlsCertificate == nil ? "rtsp" : "rtsps" }

    /// Serves `launch` (a gst-launch description in parentheses whose payloaders are named
    /// pay0, pay1, …) at `path`, for PLAY only. Shared media: every viewer sees one pipeline.
    public func mount(_ path: String, launch: String, shared: Bool = true) {
        lock.withLock { _ = playOnlyPaths.insert(path) }
        let factory = makeFactory(launch: launch, roles: ["viewer", "publisher"])
        gst_rtsp_media_factory_set_shared(factory, shared ? 1 : 0)
        addFactory(factory, at: path)
    }

    /// The URL of `path` for others: the bound address, or this machine's name when bound to
    /// every address.
    public func url(forPath path: String) -> String {
        let wildcard = ["0.0.0.0", "::", ""].contains(settings.address)
        let address = wildcard ? ProcessInfo.processInfo.hostName : settings.address
        let host = address.contains(":") ? "[\(address)]" : address
        return "\(scheme)://\(host):\(port)\(path)"
    }

    public func unmount(_ path: String) {
        lock.withLock { _ = playOnlyPaths.remove(path) }
        removeMount(path)
    }

    /// The files `room`'s current recording has begun.
    public func recordedFiles(room: String) -> [String] {
        lock.withLock { rooms["/" + room] }?.recordedFiles ?? []
    }

    /// Rooms with a live publisher and what has reached each.
    public var liveRooms: [(room: String, accessUnits: Int, bytes: Int)] {
        lock.withLock { Array(rooms.values) }.filter(\.isLive).map { ($0.room, $0.counters.accessUnits, $0.counters.bytes) }
    }

    /// Every room the server knows (live or not yet), for the metrics.
    public var roomStatistics: [RoomStatistics] {
        lock.withLock { Array(rooms.values) }.map(\.statistics).sorted { $0.room < $1.room }
    }

    /// The live room called `room`, if any.
    func liveRoom(_ room: String) -> RoomBridge? {
        lock.withLock { rooms["/" + room] }.flatMap { $0.isLive ? $0 : nil }
    }

    /// When each live room went live.
    public func liveSince(_ room: String) -> Date? { liveRoom(room)?.liveSince }

    /// Bytes of video received from publishers since the start (all rooms).
    public var bytesReceived: Int { lock.withLock { Array(rooms.values) }.reduce(0) { $0 + $1.counters.bytes } }

    /// Viewers and publishers with a session.
    public var sessionCount: Int {
        let pool = gst_rtsp_server_get_session_pool(server)
        defer { g_object_unref(pool) }
        return Int(gst_rtsp_session_pool_get_n_sessions(pool))
    }

    /// Binds the socket (so errors surface here) and runs the main loop on its own thread.
    public func start() throws {
        guard thread == nil else { return }
        let id = gst_rtsp_server_attach(server, context)
        guard id != 0 else { throw Failure.cannotListen(settings.address, settings.port) }
        sources.append(id)
        port = Int(gst_rtsp_server_get_bound_port(server))
        sources.append(attachCleanupTimer())
        let running = MainLoop(loop: loop, context: context)
        let thread = Thread { [stopped] in
            g_main_context_push_thread_default(running.context)
            g_main_loop_run(running.loop)
            g_main_context_pop_thread_default(running.context)
            stopped.signal()
        }
        thread.name = "rtsp-server"
        self.thread = thread
        thread.start()
    }

    /// Closes every client and stops the main loop; the object can be dropped afterwards.
    public func stop() {
        guard thread != nil else { return }
        // Recordings end with their index and duration written, those of rooms that just
        // ended too.
        for room in lock.withLock({ Array(rooms.values) }) { room.finishRecording() }
        _ = RoomRecorder.finishing.wait(timeout: .now() + 10)
        for id in sources {
            if let source = g_main_context_find_source_by_id(context, id) { g_source_destroy(source) }
        }
        sources = []
        _ = gst_rtsp_server_client_filter(server, { _, _, _ in GST_RTSP_FILTER_REMOVE }, nil)
        // Quit from inside the loop: a quit from here that lands before the thread enters
        // g_main_loop_run is undone by it (run marks the loop running), and the wait below
        // never ends — serve given SIGTERM while still starting up hung.
        let quit = g_idle_source_new()!
        g_source_set_callback(quit, { loop in
            g_main_loop_quit(OpaquePointer(loop))
            return 0  // G_SOURCE_REMOVE
        }, UnsafeMutableRawPointer(loop), nil)
        g_source_attach(quit, context)
        g_source_unref(quit)
        stopped.wait()
        thread = nil
    }

    // MARK: rooms

    private static let announceHook: CGstRTSPAnnounceHook = { ctx, path, reason, data in
        guard let data, let path else { return GST_RTSP_STS_INTERNAL_SERVER_ERROR }
        guard let server = Unmanaged<HookTarget>.fromOpaque(data).takeUnretainedValue().server else { return GST_RTSP_STS_SERVICE_UNAVAILABLE }
        switch server.announce(path: String(cString: path), ctx: ctx) {
        case let .success(status): return status
        case let .failure(refusal):
            reason?.pointee = g_strdup(refusal.reason)
            return GstRTSPStatusCode(rawValue: UInt32(refusal.status))
        }
    }

    /// The tracks an ANNOUNCE offers (its SDP body).
    private static func offeredTracks(_ ctx: UnsafeMutablePointer<GstRTSPContext>?) -> [TrackPlan.Offered]? {
        var tracks = [CGstSDPTrack](repeating: CGstSDPTrack(), count: 16)
        let count = Int(cgst_rtsp_announced_tracks(ctx, &tracks, Int32(tracks.count)))
        guard count >= 0 else { return nil }
        guard count <= tracks.count else { return Array(repeating: TrackPlan.Offered(media: "", encoding: "", clockRate: 0), count: count) }
        return tracks.prefix(count).map { track in
            var track = track
            let media = withUnsafeBytes(of: &track.media) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let encoding = withUnsafeBytes(of: &track.encoding) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            return TrackPlan.Offered(media: media, encoding: encoding, clockRate: Int(track.clock_rate))
        }
    }

    /// A room announced by a connection that closed before it published is forgotten at once:
    /// ANNOUNCEs come before authentication, and abandoned ones held the room cap for a minute.
    private static let announcerGoneHook: CGstRTSPAnnouncerGoneHook = { client, path, data in
        guard let data, let path else { return }
        Unmanaged<HookTarget>.fromOpaque(data).takeUnretainedValue().server?.announcerGone(client: UInt(bitPattern: client), path: String(cString: path))
    }

    private func announcerGone(client: UInt, path: String) {
        let abandoned: RoomBridge? = lock.withLock {
            guard let room = rooms[path], room.announcer == client, !room.isLive else { return nil }
            rooms.removeValue(forKey: path)
            return room
        }
        guard let abandoned else { return }
        removeMount(CGST_RTSP_RECORD_PREFIX + path)
        abandoned.abandon()
    }

    private static let playHook: CGstRTSPPlayHook = { ctx, path, data in
        guard let data, let path else { return GST_RTSP_STS_INTERNAL_SERVER_ERROR }
        guard let server = Unmanaged<HookTarget>.fromOpaque(data).takeUnretainedValue().server else { return GST_RTSP_STS_SERVICE_UNAVAILABLE }
        return server.play(path: String(cString: path), ctx: ctx)
    }

    /// A room name is one path segment of characters safe in an IRC channel name too.
    static func roomName(ofPath path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        let name = path.dropFirst()
        guard (1...64).contains(name.count),
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { return nil }
        return String(name)
    }

    private func announce(path: String, ctx: UnsafeMutablePointer<GstRTSPContext>?) -> Result<GstRTSPStatusCode, TrackPlan.Refusal> {
        if lock.withLock({ playOnlyPaths.contains(path) }) { return .success(GST_RTSP_STS_METHOD_NOT_ALLOWED) }
        guard Self.roomName(ofPath: path) != nil else { return .success(GST_RTSP_STS_NOT_FOUND) }
        guard let offered = Self.offeredTracks(ctx) else {
            return .failure(TrackPlan.Refusal(status: 400, reason: "Bad Request: ANNOUNCE needs an SDP body"))
        }
        let plan: TrackPlan
        switch TrackPlan.make(offered: offered) {
        case let .success(made): plan = made
        case let .failure(refusal): return .failure(refusal)
        }
        let (bridge, pruned): (RoomBridge?, [RoomBridge]) = lock.withLock {
            if let existing = rooms[path] { return (existing, []) }
            // ANNOUNCEs come before authentication: rooms nobody has fed for a minute are
            // forgotten, so made-up names cannot use up the room cap.
            let idle = rooms.values.filter { !$0.hasPublisher && !$0.isLive && $0.announcedAt.timeIntervalSinceNow < -60 }
            for room in idle { rooms.removeValue(forKey: room.path) }
            guard rooms.count < settings.maxRooms else { return (nil, idle) }
            let created = RoomBridge(path: path)
            created.onDrops = { [weak self] bridge, who, count in self?.onBufferDrops?(bridge.room, who, count) }
            if let directory = settings.recordDirectory, settings.recordedRooms?.contains(created.room) ?? true {
                created.recording = RoomRecorder.Settings(directory: directory, segmentSeconds: settings.recordSegmentSeconds,
                                                          segmentBytes: settings.recordSegmentBytes)
                created.onRecordingFailed = { [weak self] bridge, error in self?.onRecordingFailed?(bridge.room, "\(error)") }
            }
            rooms[path] = created
            return (created, idle)
        }
        for room in pruned { removeMount(CGST_RTSP_RECORD_PREFIX + room.path) }
        guard let bridge else { return .success(GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH) }
        bridge.announcedAt = Date()
        bridge.announcer = UInt(bitPattern: ctx?.pointee.client)
        if bridge.hasPublisher { return .success(GST_RTSP_STS_METHOD_NOT_VALID_IN_THIS_STATE) }
        if let uri = ctx?.pointee.uri, let text = gst_rtsp_url_get_request_uri(uri) {
            bridge.publishedURL = publicURL(requested: String(cString: text), path: path)
            g_free(text)
        }
        bridge.trackPlan = plan
        mountRecord(for: bridge, plan: plan)
        return .success(GST_RTSP_STS_OK)
    }

    /// The URL viewers should use: the bound address unless it is a wildcard, then the host
    /// the publisher reached.
    private func publicURL(requested: String, path: String) -> String {
        if !["0.0.0.0", "::", ""].contains(settings.address) { return url(forPath: path) }
        guard var parts = URLComponents(string: requested) else { return requested }
        parts.scheme = scheme
        parts.path = path
        parts.query = nil
        return parts.string ?? requested
    }

    private func play(path: String, ctx: UnsafeMutablePointer<GstRTSPContext>?) -> GstRTSPStatusCode {
        func header(_ field: GstRTSPHeaderField) -> String? { cgst_rtsp_request_header(ctx, field).map { String(cString: $0) } }
        switch PlaybackRate.judge(scale: header(GST_RTSP_HDR_SCALE), speed: header(GST_RTSP_HDR_SPEED)) {
        case .malformed: return GST_RTSP_STS_BAD_REQUEST
        case .unsupported: return GST_RTSP_STS_HEADER_FIELD_NOT_VALID_FOR_RESOURCE
        case .accepted: break
        }
        // A viewer that resumes starts again at a key frame newer than what it has: asked of
        // the publisher, so it comes soon (1.22's rtspclientsink does not answer the RTCP
        // request; ChatCast publishers take it over chat), and it brings a starting viewer
        // closer to live.
        let room = lock.withLock { rooms.first { path == $0.key || path.hasPrefix($0.key + "/") }?.value }
        room?.requestKeyUnit()
        if let room { onKeyFrameWanted?(room.room) }
        return GST_RTSP_STS_OK
    }

    /// The room's RECORD mount, built for what this ANNOUNCE offers (the depayloaders must
    /// match the SDP's tracks one by one).
    private func mountRecord(for bridge: RoomBridge, plan: TrackPlan) {
        let recordPath = CGST_RTSP_RECORD_PREFIX + bridge.path
        let mounts = gst_rtsp_server_get_mount_points(server)!
        defer { g_object_unref(mounts) }
        gst_rtsp_mount_points_remove_factory(mounts, recordPath)
        let roles = settings.publisher == nil ? ["viewer", "publisher"] : ["publisher"]
        let factory = makeFactory(launch: plan.recordLaunch, roles: roles)
        if settings.publisher != nil { cgst_rtsp_factory_challenge(factory, "viewer") }
        gst_rtsp_media_factory_set_transport_mode(factory, GST_RTSP_TRANSPORT_MODE_RECORD)
        gst_rtsp_media_factory_set_latency(factory, settings.recordLatencyMs)
        _ = cgst_signal_connect(factory, "media-configure", unsafeBitCast(RTSPServer.recordConfigured, to: GCallback.self),
                                Unmanaged.passUnretained(bridge).toOpaque())
        bridge.onLive = { [weak self] bridge in self?.roomWentLive(bridge) }
        bridge.onEnded = { [weak self] bridge in self?.roomEnded(bridge) }
        gst_rtsp_mount_points_add_factory(mounts, recordPath, factory)
    }

    private static let recordConfigured: @convention(c) (UnsafeMutablePointer<GstRTSPMediaFactory>?, UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { _, media, data in
        guard let media else { return }
        _ = Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue().attachRecord(media)
    }

    private static let playConfigured: @convention(c) (UnsafeMutablePointer<GstRTSPMediaFactory>?, UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { _, media, data in
        guard let media else { return }
        Unmanaged<RoomBridge>.fromOpaque(data!).takeUnretainedValue().attachPlay(media)
    }

    /// The publisher's first access unit: viewers may now DESCRIBE the room.
    private func roomWentLive(_ bridge: RoomBridge) {
        guard let plan = bridge.trackPlan else { return }
        // A media per viewer: each starts at a key frame of its own (see RoomBridge).
        let factory = makeFactory(launch: plan.playLaunch, roles: ["viewer", "publisher"])
        gst_rtsp_media_factory_set_shared(factory, 0)
        _ = cgst_signal_connect(factory, "media-configure", unsafeBitCast(RTSPServer.playConfigured, to: GCallback.self),
                                Unmanaged.passUnretained(bridge).toOpaque())
        addFactory(factory, at: bridge.path)
        onRoomLive?(bridge.room, bridge.publishedURL)
    }

    private func roomEnded(_ bridge: RoomBridge) {
        removeMount(bridge.path)
        onRoomEnded?(bridge.room)
    }

    private func removeMount(_ path: String) {
        let mounts = gst_rtsp_server_get_mount_points(server)
        gst_rtsp_mount_points_remove_factory(mounts, path)
        g_object_unref(mounts)
    }

    // MARK: setup

    private func makeFactory(launch: String, roles: [String]) -> UnsafeMutablePointer<GstRTSPMediaFactory> {
        let factory = gst_rtsp_media_factory_new()!
        gst_rtsp_media_factory_set_launch(factory, launch)
        for role in roles { cgst_rtsp_factory_allow(factory, role) }
        return factory
    }

    private func addFactory(_ factory: UnsafeMutablePointer<GstRTSPMediaFactory>, at path: String) {
        let mounts = gst_rtsp_server_get_mount_points(server)
        gst_rtsp_mount_points_add_factory(mounts, path, factory)  // takes the factory
        g_object_unref(mounts)
    }

    /// Roles: everyone is a viewer; a publisher's credentials give the publisher role, which
    /// RECORD mounts require when credentials are configured. The TLS certificate lives on
    /// the auth object too.
    private func installAuth() throws {
        let auth = gst_rtsp_auth_new()!
        defer { g_object_unref(auth) }
        let viewer = cgst_rtsp_token_new_role("viewer")!
        gst_rtsp_auth_set_default_token(auth, viewer)
        gst_mini_object_unref(UnsafeMutableRawPointer(viewer).assumingMemoryBound(to: GstMiniObject.self))
        if let publisher = settings.publisher {
            let token = cgst_rtsp_token_new_role("publisher")!
            let basic = gst_rtsp_auth_make_basic(publisher.user, publisher.password)
            gst_rtsp_auth_add_basic(auth, basic, token)
            g_free(basic)
            gst_mini_object_unref(UnsafeMutableRawPointer(token).assumingMemoryBound(to: GstMiniObject.self))
        }
        if let certificate = settings.tlsCertificate {
            var error: UnsafeMutablePointer<GError>?
            guard let tls = g_tls_certificate_new_from_files(certificate, settings.tlsKey ?? certificate, &error) else {
                let reason = error.map { String(cString: $0.pointee.message) } ?? "unreadable"
                if let error { g_error_free(error) }
                throw Failure.badCertificate(reason)
            }
            gst_rtsp_auth_set_tls_certificate(auth, tls)
            g_object_unref(tls)
        }
        gst_rtsp_server_set_auth(server, auth)
    }

    /// 1.22 reaps expired sessions only when asked.
    private func attachCleanupTimer() -> UInt32 {
        let source = g_timeout_source_new_seconds(settings.cleanupIntervalSeconds)!
        let pool = gst_rtsp_server_get_session_pool(server)
        g_source_set_callback(source, { pool in
            _ = gst_rtsp_session_pool_cleanup(pool?.assumingMemoryBound(to: GstRTSPSessionPool.self))
            return 1  // G_SOURCE_CONTINUE
        }, UnsafeMutableRawPointer(pool), { g_object_unref($0) })
        let id = g_source_attach(source, context)
        g_source_unref(source)
        return id
    }
}

/// GLib's main loop and context are thread-safe; this lets the server's thread take them.
private struct MainLoop: @unchecked Sendable {
    let loop: OpaquePointer
    let context: OpaquePointer
}

/// What the C hooks hold: the server, weakly.
private final class HookTarget: @unchecked Sendable {
    weak var server: RTSPServer?
}
