import CGStreamer
import CGstRTSPGlue
import CGstRTSPServer
import Foundation
import Locking

/// gst-rtsp-server on its own GLib main-loop thread (the original program's "Stream Video
/// to Server" did the same beside its chat), with the defaults Debian's 1.22.0 leaves
/// unsafe changed: bounded request bodies, a session cap, expired sessions reaped, PLAY
/// Scale/Speed judged before the media sees them. Rooms: a publisher RECORDs to
/// `/ROOM` and viewers PLAY the same path (bridged in process, see `RoomBridge`).
public final class RTSPServer: Sendable {
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
        /// A room nobody has fed (no publisher, not live) for this long is forgotten at the next
        /// ANNOUNCE: ANNOUNCEs come before authentication, and made-up names must not use up
        /// `maxRooms`.
        public var idleRoomSeconds = 60.0
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

    /// What the server tells its application; each runs off the server's thread, with no lock held.
    private struct Hooks: Sendable {
        var roomLive: (@Sendable (String, String) -> Void)?
        var roomEnded: (@Sendable (String) -> Void)?
        var keyFrameWanted: (@Sendable (String) -> Void)?
        var recordingFailed: (@Sendable (String, String) -> Void)?
        var bufferDrops: (@Sendable (String, String, Int) -> Void)?
    }

    /// A room's stream started (room name, URL to play) or ended. Called off the server's thread.
    public var onRoomLive: (@Sendable (String, String) -> Void)? {
        get { hooks.withLock { $0.roomLive } }
        set { hooks.withLock { $0.roomLive = newValue } }
    }
    public var onRoomEnded: (@Sendable (String) -> Void)? {
        get { hooks.withLock { $0.roomEnded } }
        set { hooks.withLock { $0.roomEnded = newValue } }
    }
    /// A viewer starts or resumes a room: its publisher should send a key frame now (1.22's
    /// rtspclientsink ignores the RTCP request; ChatCast publishers take it over chat).
    public var onKeyFrameWanted: (@Sendable (String) -> Void)? {
        get { hooks.withLock { $0.keyFrameWanted } }
        set { hooks.withLock { $0.keyFrameWanted = newValue } }
    }
    /// A room's recording could not start (room, reason); the room still plays.
    public var onRecordingFailed: (@Sendable (String, String) -> Void)? {
        get { hooks.withLock { $0.recordingFailed } }
        set { hooks.withLock { $0.recordingFailed = newValue } }
    }
    /// A viewer or a recording of a room cannot keep up and lost buffers (room, who, how many
    /// so far): told at the first drop and then at most every 10 s.
    public var onBufferDrops: (@Sendable (String, String, Int) -> Void)? {
        get { hooks.withLock { $0.bufferDrops } }
        set { hooks.withLock { $0.bufferDrops = newValue } }
    }

    /// The rooms the server knows and the paths it serves for PLAY only.
    private struct Registry {
        var rooms: [String: RoomBridge] = [:]
        var playOnlyPaths: Set<String> = []
    }

    /// What start() made and stop() ends.
    private struct Running {
        var sources: [UInt32] = []
        var statisticsTimer: RepeatingTimer?
    }

    /// What `/metrics` and the room list read: published by a timer (and when a room starts or
    /// ends), so their readers, on the chat server's event loop, never wait on a room.
    private struct Snapshot: Sendable {
        var rooms: [RoomStatistics] = []
        var sessions = 0
    }

    public let settings: Settings
    private let native: Native
    private let stopped = DispatchSemaphore(value: 0)
    private let hooks = Mutex(Hooks())
    private let registry = Mutex(Registry())
    private let running = Mutex(Running())
    private let snapshot = Mutex(Snapshot())
    private let boundPort = Mutex(0)
    private static let statisticsQueue = DispatchQueue(label: "chatcast.rtsp-statistics")

    /// The port bound by `start` (the one asked for until then).
    public var port: Int { boundPort.withLock { $0 } }

    public init(settings: Settings = Settings()) throws {
        self.settings = settings
        gst_init(nil, nil)
        let context = g_main_context_new()!
        native = Native(server: cgst_rtsp_room_server_new(RTSPServer.announceHook, RTSPServer.playHook)!, context: context,
                        loop: g_main_loop_new(context, 0))
        boundPort.withLock { $0 = settings.port }
        let server = native.server
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
        cgst_rtsp_room_server_set_user_data(server, WeakBox.retained(self))
        cgst_rtsp_room_server_set_announcer_gone(server, RTSPServer.announcerGoneHook)
    }

    deinit {
        stop()
        g_main_loop_unref(native.loop)
        g_main_context_unref(native.context)
        g_object_unref(native.server)
    }

    public var scheme: String { settings.tlsCertificate == nil ? "rtsp" : "rtsps" }

    /// Serves `launch` (a gst-launch description in parentheses whose payloaders are named
    /// pay0, pay1, …) at `path`, for PLAY only. Shared media: every viewer sees one pipeline.
    public func mount(_ path: String, launch: String, shared: Bool = true) {
        registry.withLock { _ = $0.playOnlyPaths.insert(path) }
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
        registry.withLock { _ = $0.playOnlyPaths.remove(path) }
        removeMount(path)
    }

    /// The files `room`'s current recording has begun.
    public func recordedFiles(room: String) -> [String] {
        registry.withLock { $0.rooms["/" + room] }?.recordedFiles ?? []
    }

    // What follows reads the published snapshot (at most `statisticsInterval` old): callers
    // on an event loop never wait on a room.

    /// Every room the server knows (live or not yet), for the metrics.
    public var roomStatistics: [RoomStatistics] { snapshot.withLock { $0.rooms } }

    /// Rooms with a live publisher and what has reached each.
    public var liveRooms: [RoomStatistics] { roomStatistics.filter(\.live) }

    /// When a live room went live.
    public func liveSince(_ room: String) -> Date? { roomStatistics.first { $0.room == room }?.liveSince }

    /// Bytes of video received from publishers since the start (all rooms).
    public var bytesReceived: Int { roomStatistics.reduce(0) { $0 + $1.bytesReceived } }

    /// Viewers and publishers with a session.
    public var sessionCount: Int { snapshot.withLock { $0.sessions } }

    /// How often the snapshot is published.
    public static let statisticsInterval: DispatchTimeInterval = .milliseconds(250)

    /// The live room called `room`, if any (takes its lock: not for an event loop).
    func liveRoom(_ room: String) -> RoomBridge? {
        registry.withLock { $0.rooms["/" + room] }.flatMap { $0.isLive ? $0 : nil }
    }

    /// Viewers and publishers with a session now (asks the session pool: not for an event loop).
    var currentSessionCount: Int {
        let pool = gst_rtsp_server_get_session_pool(native.server)
        defer { g_object_unref(pool) }
        return Int(gst_rtsp_session_pool_get_n_sessions(pool))
    }

    /// Publishes the snapshot now (off the caller's thread).
    private func publishStatistics() {
        Self.statisticsQueue.async { [weak self] in
            guard let self else { return }
            let rooms = registry.withLock { Array($0.rooms.values) }.map(\.statistics).sorted { $0.room < $1.room }
            let sessions = currentSessionCount
            snapshot.withLock { $0 = Snapshot(rooms: rooms, sessions: sessions) }
        }
    }

    /// Binds the socket (so errors surface here) and runs the main loop on its own thread.
    public func start() throws {
        guard running.withLock({ $0.sources.isEmpty }) else { return }
        let id = gst_rtsp_server_attach(native.server, native.context)
        guard id != 0 else { throw Failure.cannotListen(settings.address, settings.port) }
        let bound = Int(gst_rtsp_server_get_bound_port(native.server))
        boundPort.withLock { $0 = bound }
        let cleanup = attachCleanupTimer()
        let native = self.native, stopped = self.stopped
        let thread = Thread {
            g_main_context_push_thread_default(native.context)
            g_main_loop_run(native.loop)
            g_main_context_pop_thread_default(native.context)
            stopped.signal()
        }
        thread.name = "rtsp-server"
        thread.start()
        let timer = RepeatingTimer(queue: Self.statisticsQueue, every: Self.statisticsInterval) { [weak self] in
            self?.publishStatistics()
        }
        running.withLock {
            $0.sources = [id, cleanup]
            $0.statisticsTimer = timer
        }
    }

    /// Closes every client and stops the main loop; the object can be dropped afterwards.
    public func stop() {
        let (sources, timer) = running.withLock { r -> ([UInt32], RepeatingTimer?) in
            defer {
                r.sources = []
                r.statisticsTimer = nil
            }
            return (r.sources, r.statisticsTimer)
        }
        guard !sources.isEmpty else { return }
        timer?.cancel()
        // Recordings end with their index and duration written, those of rooms that just
        // ended too.
        for room in registry.withLock({ Array($0.rooms.values) }) { room.finishRecording() }
        _ = RoomRecorder.finishing.wait(timeout: .now() + 10)
        for id in sources {
            if let source = g_main_context_find_source_by_id(native.context, id) { g_source_destroy(source) }
        }
        _ = gst_rtsp_server_client_filter(native.server, { _, _, _ in GST_RTSP_FILTER_REMOVE }, nil)
        // Quit from inside the loop: a quit from here that lands before the thread enters
        // g_main_loop_run is undone by it (run marks the loop running), and the wait below
        // never ends — serve given SIGTERM while still starting up hung.
        let quit = g_idle_source_new()!
        g_source_set_callback(quit, { loop in
            g_main_loop_quit(OpaquePointer(loop))
            return 0  // G_SOURCE_REMOVE
        }, UnsafeMutableRawPointer(native.loop), nil)
        g_source_attach(quit, native.context)
        g_source_unref(quit)
        stopped.wait()
    }

    // MARK: rooms

    private static let announceHook: CGstRTSPAnnounceHook = { ctx, path, reason, data in
        guard let data, let path else { return GST_RTSP_STS_INTERNAL_SERVER_ERROR }
        guard let server = WeakBox.object(data, as: RTSPServer.self) else { return GST_RTSP_STS_SERVICE_UNAVAILABLE }
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
        WeakBox.object(data, as: RTSPServer.self)?.announcerGone(client: UInt(bitPattern: client), path: String(cString: path))
    }

    private func announcerGone(client: UInt, path: String) {
        let abandoned: RoomBridge? = registry.withLock { r in
            guard let room = r.rooms[path], room.isAwaitingPublisher(client) else { return nil }
            r.rooms.removeValue(forKey: path)
            return room
        }
        guard let abandoned else { return }
        removeMount(CGST_RTSP_RECORD_PREFIX + path)
        abandoned.abandon()
    }

    private static let playHook: CGstRTSPPlayHook = { ctx, path, data in
        guard let data, let path else { return GST_RTSP_STS_INTERNAL_SERVER_ERROR }
        guard let server = WeakBox.object(data, as: RTSPServer.self) else { return GST_RTSP_STS_SERVICE_UNAVAILABLE }
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
        if registry.withLock({ $0.playOnlyPaths.contains(path) }) { return .success(GST_RTSP_STS_METHOD_NOT_ALLOWED) }
        guard Self.roomName(ofPath: path) != nil else { return .success(GST_RTSP_STS_NOT_FOUND) }
        guard let offered = Self.offeredTracks(ctx) else {
            return .failure(TrackPlan.Refusal(status: 400, reason: "Bad Request: ANNOUNCE needs an SDP body"))
        }
        let plan: TrackPlan
        switch TrackPlan.make(offered: offered) {
        case let .success(made): plan = made
        case let .failure(refusal): return .failure(refusal)
        }
        var recording: RoomRecorder.Settings?
        if let directory = settings.recordDirectory, settings.recordedRooms?.contains(String(path.dropFirst())) ?? true {
            recording = RoomRecorder.Settings(directory: directory, segmentSeconds: settings.recordSegmentSeconds,
                                              segmentBytes: settings.recordSegmentBytes)
        }
        let hooks = bridgeHooks
        // Rooms nobody has fed for a minute are found under the registry's lock, asked one
        // by one (each takes its own lock; neither calls out).
        let (bridge, pruned): (RoomBridge?, [RoomBridge]) = registry.withLock { r in
            if let existing = r.rooms[path] { return (existing, []) }
            // ANNOUNCEs come before authentication: rooms nobody has fed for a minute are
            // forgotten, so made-up names cannot use up the room cap.
            let idle = r.rooms.values.filter { $0.isIdle(for: settings.idleRoomSeconds) }
            for room in idle { r.rooms.removeValue(forKey: room.path) }
            guard r.rooms.count < settings.maxRooms else { return (nil, idle) }
            let created = RoomBridge(path: path, recording: recording, hooks: hooks)
            r.rooms[path] = created
            return (created, idle)
        }
        for room in pruned { removeMount(CGST_RTSP_RECORD_PREFIX + room.path) }
        guard let bridge else { return .success(GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH) }
        guard bridge.announced(by: UInt(bitPattern: ctx?.pointee.client)) else { return .success(GST_RTSP_STS_METHOD_NOT_VALID_IN_THIS_STATE) }
        var url: String?
        if let uri = ctx?.pointee.uri, let text = gst_rtsp_url_get_request_uri(uri) {
            url = publicURL(requested: String(cString: text), path: path)
            g_free(text)
        }
        bridge.prepare(plan: plan, publishedURL: url)
        mountRecord(for: bridge, plan: plan)
        return .success(GST_RTSP_STS_OK)
    }

    /// What every room tells this server (weakly held: rooms may outlive a stopped server).
    private var bridgeHooks: RoomBridge.Hooks {
        var hooks = RoomBridge.Hooks()
        hooks.live = { [weak self] bridge in self?.roomWentLive(bridge) }
        hooks.ended = { [weak self] bridge in self?.roomEnded(bridge) }
        hooks.recordingFailed = { [weak self] bridge, error in self?.onRecordingFailed?(bridge.room, "\(error)") }
        hooks.drops = { [weak self] bridge, who, count in self?.onBufferDrops?(bridge.room, who, count) }
        return hooks
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
        let room = registry.withLock { $0.rooms.first { path == $0.key || path.hasPrefix($0.key + "/") }?.value }
        room?.requestKeyUnit()
        if let room { onKeyFrameWanted?(room.room) }
        return GST_RTSP_STS_OK
    }

    /// The room's RECORD mount, built for what this ANNOUNCE offers (the depayloaders must
    /// match the SDP's tracks one by one).
    private func mountRecord(for bridge: RoomBridge, plan: TrackPlan) {
        let recordPath = CGST_RTSP_RECORD_PREFIX + bridge.path
        let mounts = gst_rtsp_server_get_mount_points(native.server)!
        defer { g_object_unref(mounts) }
        gst_rtsp_mount_points_remove_factory(mounts, recordPath)
        let roles = settings.publisher == nil ? ["viewer", "publisher"] : ["publisher"]
        let factory = makeFactory(launch: plan.recordLaunch, roles: roles)
        if settings.publisher != nil { cgst_rtsp_factory_challenge(factory, "viewer") }
        gst_rtsp_media_factory_set_transport_mode(factory, GST_RTSP_TRANSPORT_MODE_RECORD)
        gst_rtsp_media_factory_set_latency(factory, settings.recordLatencyMs)
        // A client thread may still hold the factory of a room pruned meanwhile: its bridge is
        // reached weakly, through a box the factory frees.
        connectSignal(factory, "media-configure", unsafeBitCast(RTSPServer.recordConfigured, to: GCallback.self), to: bridge)
        gst_rtsp_mount_points_add_factory(mounts, recordPath, factory)
    }

    private static let recordConfigured: @convention(c) (UnsafeMutablePointer<GstRTSPMediaFactory>?, UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { _, media, data in
        guard let media, let bridge = WeakBox.object(data, as: RoomBridge.self) else { return }
        _ = bridge.attachRecord(media)
    }

    private static let playConfigured: @convention(c) (UnsafeMutablePointer<GstRTSPMediaFactory>?, UnsafeMutablePointer<GstRTSPMedia>?, gpointer?) -> Void = { _, media, data in
        guard let media, let bridge = WeakBox.object(data, as: RoomBridge.self) else { return }
        bridge.attachPlay(media)
    }

    /// The publisher's first access unit: viewers may now DESCRIBE the room.
    private func roomWentLive(_ bridge: RoomBridge) {
        guard let plan = bridge.trackPlan else { return }
        // A media per viewer: each starts at a key frame of its own (see RoomBridge).
        let factory = makeFactory(launch: plan.playLaunch, roles: ["viewer", "publisher"])
        gst_rtsp_media_factory_set_shared(factory, 0)
        connectSignal(factory, "media-configure", unsafeBitCast(RTSPServer.playConfigured, to: GCallback.self), to: bridge)
        addFactory(factory, at: bridge.path)
        publishStatistics()
        onRoomLive?(bridge.room, bridge.publishedURL)
    }

    private func roomEnded(_ bridge: RoomBridge) {
        removeMount(bridge.path)
        publishStatistics()
        onRoomEnded?(bridge.room)
    }

    private func removeMount(_ path: String) {
        let mounts = gst_rtsp_server_get_mount_points(native.server)
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
        let mounts = gst_rtsp_server_get_mount_points(native.server)
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
        gst_rtsp_server_set_auth(native.server, auth)
    }

    /// 1.22 reaps expired sessions only when asked.
    private func attachCleanupTimer() -> UInt32 {
        let source = g_timeout_source_new_seconds(settings.cleanupIntervalSeconds)!
        let pool = gst_rtsp_server_get_session_pool(native.server)
        g_source_set_callback(source, { pool in
            _ = gst_rtsp_session_pool_cleanup(pool?.assumingMemoryBound(to: GstRTSPSessionPool.self))
            return 1  // G_SOURCE_CONTINUE
        }, UnsafeMutableRawPointer(pool), { g_object_unref($0) })
        let id = g_source_attach(source, native.context)
        g_source_unref(source)
        return id
    }
}

/// The server's GLib objects: GMainContext, GMainLoop and GstRTSPServer lock themselves,
/// so any thread may use them.
private struct Native: @unchecked Sendable {  // pointers to thread-safe GLib objects
    let server: UnsafeMutablePointer<GstRTSPServer>
    let context: OpaquePointer
    let loop: OpaquePointer
}
