// swift-tools-version:6.0
import PackageDescription

// libtorch from Debian's libtorch-dev keeps its C++ API headers outside the default path.
let torchInclude = "/usr/include/torch/csrc/api/include"

let package = Package(
    name: "ChatCast",
    products: [
        .executable(name: "chatcast", targets: ["Launcher"]),
        .executable(name: "torch-forward-loop", targets: ["TorchForwardLoop"]),
        // Plugin file names must be libgstNAME.so with NAME matching GST_PLUGIN_DEFINE.
        .library(name: "gstswiftyolo", type: .dynamic, targets: ["GstSwiftYoloEntry", "GstSwiftYolo"]),
        .library(name: "gstchatsink", type: .dynamic, targets: ["GstChatSinkEntry", "GstChatSink"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // TOMLKit would need swift-checkit, which the package mirror lacks: presets are YAML.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CGStreamer", pkgConfig: "gstreamer-video-1.0",
                       providers: [.apt(["libgstreamer1.0-dev", "libgstreamer-plugins-base1.0-dev"])]),
        .systemLibrary(name: "CGstRTSPServer", pkgConfig: "gstreamer-rtsp-server-1.0",
                       providers: [.apt(["libgstrtspserver-1.0-dev"])]),
        .systemLibrary(name: "CGstPbutils", pkgConfig: "gstreamer-pbutils-1.0",
                       providers: [.apt(["libgstreamer-plugins-base1.0-dev"])]),
        .systemLibrary(name: "CPangoCairo", pkgConfig: "pangocairo", providers: [.apt(["libpango1.0-dev", "libcairo2-dev"])]),
        .systemLibrary(name: "CGstCheck", pkgConfig: "gstreamer-check-1.0",
                       providers: [.apt(["libgstreamer1.0-dev"])]),
        .target(name: "CGstGlue", dependencies: ["CGStreamer"]),
        // Swift's Mutex as ThreadSanitizer sees it (its futex is invisible to the sanitizer).
        .target(name: "CSanitizerHooks"),
        .target(name: "Locking", dependencies: ["CSanitizerHooks"]),
        // gst-rtsp-server subclasses (kept out of CGstGlue so the plugins do not link it).
        .target(name: "CGstRTSPGlue", dependencies: ["CGstRTSPServer"],
                linkerSettings: [.linkedLibrary("gstrtsp-1.0"), .linkedLibrary("gstapp-1.0"), .linkedLibrary("gstsdp-1.0"), .linkedLibrary("gstrtp-1.0")]),
        // webrtcbin's promise-carrying action signals, for the browser viewers (WHEP).
        .target(name: "CGstWebRTCGlue", dependencies: ["CGStreamer"],
                linkerSettings: [.linkedLibrary("gstwebrtc-1.0"), .linkedLibrary("gstsdp-1.0"), .linkedLibrary("gstrtp-1.0")]),
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(["-I\(torchInclude)", "-O2", "-Wno-deprecated-declarations"])],
            linkerSettings: [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")]
        ),
        // These parse untrusted bytes (SEI from any stream, model metadata): bounds checks stay
        // on (Fuzz/ runs them under libFuzzer and ASan; bench/results/bounds-checks.txt).
        .target(name: "ChatCastJSON"),
        .target(name: "ChatCastSEI", dependencies: ["ChatCastJSON", "YoloCore"]),
        .target(name: "YoloCore", dependencies: ["ChatCastJSON"]),
        .target(name: "GstSwift", dependencies: ["CGStreamer", "CGstGlue", "CPangoCairo", "Locking"]),
        .target(name: "GstSwiftYolo", dependencies: ["GstSwift", "YoloCore", "CTorch", "ChatCastJSON", "CPangoCairo", "Locking"]),
        .target(name: "GstSwiftYoloEntry", dependencies: ["CGStreamer"]),
        .target(name: "GstChatSink", dependencies: ["GstSwift", "CGStreamer", "CGstGlue", "ChatCastSEI", "ChatIRC", "YoloCore",
                                                   "CPangoCairo", "Locking"]),
        .target(name: "GstChatSinkEntry", dependencies: ["CGStreamer"]),
        // IRC: the codec and the client the elements and `chatcast chat` use (no Foundation).
        .target(name: "ChatIRC", dependencies: [
            "ChatCastSEI", "Locking",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The chat half of `chatcast serve`: rooms, limits, history in SQLite.
        .target(name: "ChatIRCServer", dependencies: [
            "ChatIRC", "ChatCastSEI", "Locking",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The web half of `chatcast serve`: pages, WHEP, metrics, IRC over WebSocket.
        .target(name: "ChatCastHTTP", dependencies: [
            "ChatIRC", "Locking",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Pipeline presets (pipelines/*.yaml): loading, checking, rendering gst-launch lines.
        .target(name: "ChatCastPresets", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The RTSP half of `chatcast serve` (gst-rtsp-server on its own main-loop thread).
        .target(name: "ChatCastRTSP", dependencies: ["CGStreamer", "CGstRTSPServer", "CGstRTSPGlue", "CGstWebRTCGlue", "ChatCastSEI",
                                                    "Locking"],
                linkerSettings: [.linkedLibrary("gstrtsp-1.0"), .linkedLibrary("gstapp-1.0"), .linkedLibrary("gio-2.0")]),
        .executableTarget(name: "Launcher", dependencies: [
            "CGStreamer", "CGstGlue", "CGstPbutils", "ChatCastJSON", "ChatCastSEI", "ChatIRC", "ChatIRCServer", "ChatCastRTSP",
            "ChatCastHTTP", "ChatCastPresets", "Locking", .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
        ]),

        .executableTarget(name: "TorchForwardLoop", dependencies: ["CTorch"], path: "bench/TorchForwardLoop"),

        .testTarget(name: "ChatCastJSONTests", dependencies: ["ChatCastJSON"]),
        .testTarget(name: "ChatCastSEITests", dependencies: ["ChatCastSEI", "ChatCastJSON", "YoloCore"]),
        .testTarget(name: "YoloCoreTests", dependencies: ["YoloCore"]),
        .testTarget(name: "ChatIRCTests", dependencies: [
            "ChatIRC", "ChatIRCServer", "ChatCastSEI", "ChatCastHTTP", "Locking",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "WebTests", dependencies: [
            "ChatCastHTTP", "ChatIRC",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
        // Real IRC software and `chatcast` processes on loopback.
        .target(name: "ProcessSupport", path: "Tests/ProcessSupport"),
        .testTarget(name: "PresetTests", dependencies: ["ChatCastPresets"]),
        .testTarget(name: "ChatInteropTests", dependencies: ["ProcessSupport"]),
        // Elements of both plugins, driven in process by gst-check and as a user runs them.
        .testTarget(name: "ElementTests",
                    dependencies: ["GstSwiftYolo", "GstChatSink", "GstSwift", "CGstCheck", "CGStreamer", "CGstGlue",
                                   "YoloCore", "ChatCastJSON", "ChatCastSEI", "ChatCastRTSP", "ChatIRC", "ChatIRCServer",
                                   "ChatCastPresets", "ProcessSupport", "Locking"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
