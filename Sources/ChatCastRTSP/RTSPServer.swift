import CGStreamer
import CGstRTSPServer
import Foundation

/// gst-rtsp-server on its own GLib main-loop thread (the original program's "Stream Video
/// to Server" did the same beside its chat), with the defaults Debian's 1.22.0 leaves
/// unsafe changed: bounded request bodies, a session cap and expired sessions reaped.
public final class RTSPServer: @unchecked Sendable {
    public struct Settings: Sendable {
        public var address = "127.0.0.1"
        /// 0 picks a free port; `port` tells which after `start`.
        public var port = 8554
        public var maxSessions = 64
        /// RTSP requests carry no large bodies; 1.22 accepts any size by default.
        public var contentLengthLimit = 16 * 1024
        public var cleanupIntervalSeconds: UInt32 = 2
        public init() {}
    }

    public enum Failure: Error, CustomStringConvertible {
        case cannotListen(String, Int)
        public var description: String {
            switch self {
            case let .cannotListen(address, port):
                return "the RTSP server cannot listen on \(address):\(port) (port in use, or address not on this machine)"
            }
        }
    }

    public let settings: Settings
    private let server: UnsafeMutablePointer<GstRTSPServer>
    private let context: OpaquePointer
    private let loop: OpaquePointer
    private var sources: [UInt32] = []
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)
    public private(set) var port = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
        gst_init(nil, nil)
        server = gst_rtsp_server_new()!
        context = g_main_context_new()
        loop = g_main_loop_new(context, 0)
        gst_rtsp_server_set_address(server, settings.address)
        gst_rtsp_server_set_service(server, String(settings.port))
        gst_rtsp_server_set_content_length_limit(server, guint(settings.contentLengthLimit))
        let pool = gst_rtsp_server_get_session_pool(server)
        gst_rtsp_session_pool_set_max_sessions(pool, guint(settings.maxSessions))
        g_object_unref(pool)
    }

    deinit {
        stop()
        g_main_loop_unref(loop)
        g_main_context_unref(context)
        g_object_unref(server)
    }

    /// Serves `launch` (a gst-launch description in parentheses whose payloaders are named
    /// pay0, pay1, …) at `path`. Shared media: every viewer of a path sees one pipeline.
    public func mount(_ path: String, launch: String, shared: Bool = true) {
        let factory = gst_rtsp_media_factory_new()
        gst_rtsp_media_factory_set_launch(factory, launch)
        gst_rtsp_media_factory_set_shared(factory, shared ? 1 : 0)
        let mounts = gst_rtsp_server_get_mount_points(server)
        gst_rtsp_mount_points_add_factory(mounts, path, factory)  // takes the factory
        g_object_unref(mounts)
    }

    public func unmount(_ path: String) {
        let mounts = gst_rtsp_server_get_mount_points(server)
        gst_rtsp_mount_points_remove_factory(mounts, path)
        g_object_unref(mounts)
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
        for id in sources {
            if let source = g_main_context_find_source_by_id(context, id) { g_source_destroy(source) }
        }
        sources = []
        _ = gst_rtsp_server_client_filter(server, { _, _, _ in GST_RTSP_FILTER_REMOVE }, nil)
        g_main_loop_quit(loop)
        stopped.wait()
        thread = nil
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
