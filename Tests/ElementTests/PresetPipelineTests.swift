import CGStreamer
import ChatCastPresets
import Foundation
import XCTest

/// Every shipped preset names elements and properties that exist: its description builds a
/// pipeline (not started: publishers need a server).
final class PresetPipelineTests: XCTestCase {
    func testEveryPresetBuildsAPipeline() throws {
        _ = GStreamerOnce.ready
        let presets = try PresetLibrary.load(directory: Paths.repo.appendingPathComponent("pipelines").path)
        XCTAssertEqual(presets.count, 7)
        for preset in presets {
            var error: UnsafeMutablePointer<GError>?
            let pipeline = gst_parse_launch(try preset.description(), &error)
            defer { if let pipeline { gst_object_unref(pipeline) } }
            XCTAssertNil(error.map { String(cString: $0.pointee.message) }, preset.name)
            XCTAssertNotNil(pipeline, preset.name)
            if let error { g_error_free(error) }
        }
    }
}
