import CGStreamer
import CGstPbutils
import Foundation

/// Whether a media file has sound, asked of GStreamer's discoverer before a publish pipeline
/// is built: rtspclientsink waits for every branch it is given, so a sound branch for a file
/// without sound would hold the stream back for ever.
enum InputSound {
    struct Unreadable: Error, CustomStringConvertible { let description: String }

    static func hasAudio(file path: String, timeout seconds: Double = 10) throws -> Bool {
        gst_init(nil, nil)
        var error: UnsafeMutablePointer<GError>?
        guard let discoverer = gst_discoverer_new(GstClockTime(seconds * 1e9), &error) else {
            defer { if let error { g_error_free(error) } }
            throw Unreadable(description: "cannot inspect \(path): \(error.map { String(cString: $0.pointee.message) } ?? "no discoverer")")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(discoverer)) }
        let uri = URL(fileURLWithPath: path).absoluteURL.absoluteString
        let info = gst_discoverer_discover_uri(discoverer, uri, &error)
        defer { if let info { g_object_unref(UnsafeMutableRawPointer(info)) } }
        if let error {
            defer { g_error_free(error) }
            throw Unreadable(description: "cannot read \(path): \(String(cString: error.pointee.message))")
        }
        guard let info else { throw Unreadable(description: "cannot read \(path)") }
        let streams = gst_discoverer_info_get_audio_streams(info)
        defer { gst_discoverer_stream_info_list_free(streams) }
        return streams != nil
    }
}
