import ChatCastSEI
import XCTest

/// The same envelope in H.265: a prefix SEI NAL (type 39, two-byte header) placed before the
/// first VCL NAL unit, read back and stripped, in Annex B and in length-prefixed (hvc1) units.
final class H265AccessUnitTests: XCTestCase {
    let payload = Array(#"{"v":1,"chat":[]}"#.utf8)
    var sei: [UInt8] { UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: payload).seiNAL(codec: .h265) }
    // AUD (35), VPS (32), SPS (33), PPS (34), an encoder's prefix SEI (other UUID), IDR_W_RADL (19), a second slice.
    let encoderSEI = UserDataUnregistered(uuid: Array(repeating: 0xDC, count: 16), payload: Array("x265".utf8)).seiNAL(codec: .h265)
    var annexB: [UInt8] {
        [0, 0, 0, 1, 0x46, 0x01, 0x10, 0, 0, 0, 1, 0x40, 0x01, 0x0C, 0, 0, 0, 1, 0x42, 0x01, 0x01, 0, 0, 0, 1, 0x44, 0x01, 0xC1]
            + [0, 0, 1] + encoderSEI + [0, 0, 0, 1, 0x26, 0x01, 0xAF, 0x09, 0, 0, 1, 0x26, 0x01, 0x55]
    }

    func testOurSEIHasAnH265PrefixHeader() {
        XCTAssertEqual(Array(sei.prefix(2)), [0x4E, 0x01], "nal_unit_type 39, layer 0, temporal id 0")
        XCTAssertEqual(try SEIReader.userDataUnregistered(inNAL: sei, codec: .h265).map(\.payload), [payload])
        XCTAssertThrowsError(try SEIReader.userDataUnregistered(inNAL: sei), "not an H.264 SEI")
    }

    func testInsertedBeforeTheFirstSliceReadAndStrippedInAnnexB() throws {
        let out = try XCTUnwrap(AccessUnit.inserting(sei, into: annexB, format: .annexB, codec: .h265))
        let types = NALUnits.annexB(out, codec: .h265).map { NALUnits.type(out[$0.lowerBound], codec: .h265) }
        XCTAssertEqual(types, [35, 32, 33, 34, 39, 39, 19, 19])
        XCTAssertEqual(Array(out[NALUnits.annexB(out, codec: .h265)[5]]), sei)
        XCTAssertEqual(AccessUnit.userData(in: out, format: .annexB, codec: .h265).payloads, [payload])
        XCTAssertEqual(AccessUnit.userData(in: out, format: .annexB).payloads, [], "read as H.264 it is not ours")
        let stripped = try XCTUnwrap(AccessUnit.removingUserData(out, format: .annexB, codec: .h265))
        XCTAssertEqual(AccessUnit.userData(in: stripped, format: .annexB, codec: .h265).payloads, [])
        XCTAssertEqual(NALUnits.annexB(stripped, codec: .h265).map { NALUnits.type(stripped[$0.lowerBound], codec: .h265) },
                       [35, 32, 33, 34, 39, 19, 19], "the encoder's SEI and the slices stay")
    }

    func testInsertedInLengthPrefixedUnits() throws {
        let slice: [UInt8] = [0x26, 0x01, 0xAF, 0x09]
        let hvc1: [UInt8] = [0, 0, 0, UInt8(slice.count)] + slice
        let out = try XCTUnwrap(AccessUnit.inserting(sei, into: hvc1, format: .lengthPrefixed(lengthSize: 4), codec: .h265))
        XCTAssertEqual(try XCTUnwrap(NALUnits.lengthPrefixed(out, codec: .h265)).map { Array(out[$0]) }, [sei, slice])
        XCTAssertEqual(AccessUnit.userData(in: out, format: .lengthPrefixed(lengthSize: 4), codec: .h265).payloads, [payload])
    }
}
