import ChatCastPresets
import XCTest

/// Values reach gst-launch and the printed shell line quoted whatever characters they hold,
/// and descriptions are split as gst-launch splits them: a space or a quote that Unicode makes
/// part of a larger character (a prepended sign before it, a combining mark after it) is still
/// one to gst-launch and the shell, which read bytes. The presets are the fuzz target's
/// (Fuzz/corpus/presets/regression-*).
final class QuotingTests: XCTestCase {
    static let preset = """
        name: quoting
        kind: play
        pipeline: fakesrc name=${a} ! fakesink name=${b} ! filesink location=${c}
        defaults:
          a: "x\u{0D4E} name=evil"
          b: "q\\"\u{301} ! fakesink"
          c: "it'\u{301}s; touch pwned"

        """

    func testHiddenSpacesAndQuotesAreQuoted() throws {
        let preset = try PresetLibrary.parse(Self.preset, file: "regression-combining-quotes")
        XCTAssertEqual(try preset.description(),
                       "fakesrc name=\"x\u{0D4E} name=evil\" ! fakesink name=\"q\\\"\u{301} ! fakesink\" ! filesink location=\"it'\u{301}s; touch pwned\"",
                       "one gst-launch value each: the prepended sign's space and the accented quote are inside quotes")
        XCTAssertEqual(try preset.commandLine(),
                       "gst-launch-1.0 -e fakesrc 'name=\"x\u{0D4E} name=evil\"' ! fakesink 'name=\"q\\\"\u{301} ! fakesink\"' "
                           + "! filesink 'location=\"it'\\''\u{301}s; touch pwned\"'",
                       "the shell sees no ; outside quotes")
        XCTAssertEqual(Preset.launchValue("x\u{0D4E} y"), "\"x\u{0D4E} y\"")
        XCTAssertEqual(Preset.launchValue("caf\u{E9}"), "caf\u{E9}", "letters stay plain")
    }

    /// A quoted value that starts with a combining mark stays one token: LaunchEdits does not
    /// take the stages inside it for the pipeline's.
    func testAQuoteBeforeACombiningMarkStillQuotes() throws {
        let preset = try PresetLibrary.parse("""
            name: marks
            kind: play
            pipeline: fakesrc name=${a} ! swiftyolo ! fakesink
            defaults:
              a: "\u{301} ! swiftyolo ! x"

            """, file: "regression-quote-then-mark")
        let description = try preset.description()
        XCTAssertEqual(description, "fakesrc name=\"\u{301} ! swiftyolo ! x\" ! swiftyolo ! fakesink")
        XCTAssertEqual(LaunchEdits.removing("swiftyolo", from: description), "fakesrc name=\"\u{301} ! swiftyolo ! x\" ! fakesink")
        XCTAssertEqual(LaunchEdits.lastFactories(in: description), ["fakesink", "swiftyolo", "fakesrc"])
    }
}
