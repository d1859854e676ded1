import ChatCastSEI
import XCTest

final class AccessUnitTests: XCTestCase {
    let sei = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: Array(#"{"v":1}"#.utf8)).seiNAL()
    // AUD, SPS, PPS, an encoder SEI (x264-like, other UUID), IDR slice, second slice.
    let encoderSEI = UserDataUnregistered(uuid: Array(repeating: 0xDC, count: 16), payload: Array("x264".utf8)).seiNAL()
    var annexB: [UInt8] {
        [0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xCE] + [0, 0, 1] + encoderSEI
            + [0, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0, 1, 0x65, 0x99]
    }

    func testInsertsDirectlyBeforeTheFirstSliceInAnnexB() throws {
        let out = try XCTUnwrap(AccessUnit.inserting(sei, into: annexB, format: .annexB))
        let types = NALUnits.annexB(out).map { NALUnits.type(out[$0.lowerBound]) }
        XCTAssertEqual(types, [9, 7, 8, 6, 6, 5, 5])
        let ours = NALUnits.annexB(out)[4]
        XCTAssertEqual(Array(out[ours]), sei)
        XCTAssertEqual(AccessUnit.userData(in: out, format: .annexB).payloads, [Array(#"{"v":1}"#.utf8)])
    }

    func testInsertsInLengthPrefixedUnits() throws {
        let slice: [UInt8] = [0x65, 1, 2, 3]
        let avc: [UInt8] = [0, 0, 0, UInt8(slice.count)] + slice
        let out = try XCTUnwrap(AccessUnit.inserting(sei, into: avc, format: .lengthPrefixed(lengthSize: 4)))
        let units = try XCTUnwrap(NALUnits.lengthPrefixed(out))
        XCTAssertEqual(units.map { Array(out[$0]) }, [sei, slice])
        XCTAssertNil(AccessUnit.inserting(sei, into: [0, 0, 0, 9, 1], format: .lengthPrefixed(lengthSize: 4)))
    }

    func testFindsEveryOneOfOurEnvelopesAndCountsBrokenOnes() {
        var two = AccessUnit.inserting(sei, into: annexB, format: .annexB)!
        let second = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: Array(#"{"v":1,"chat":[]}"#.utf8)).seiNAL()
        two = AccessUnit.inserting(second, into: two, format: .annexB)!
        XCTAssertEqual(AccessUnit.userData(in: two, format: .annexB).payloads.count, 2)
        // Our UUID with a size running past the NAL: counted; x264's SEI: ignored.
        var broken = sei
        broken[2] = 200
        let withBroken = AccessUnit.inserting(broken, into: annexB, format: .annexB)!
        let result = AccessUnit.userData(in: withBroken, format: .annexB)
        XCTAssertEqual(result.payloads.count, 0)
        XCTAssertEqual(result.malformed, 1)
    }

    func testStrippingRemovesOnlyOurSEI() throws {
        let with = try XCTUnwrap(AccessUnit.inserting(sei, into: annexB, format: .annexB))
        let stripped = try XCTUnwrap(AccessUnit.removingUserData(with, format: .annexB))
        XCTAssertEqual(NALUnits.annexB(stripped).map { Array(stripped[$0]) }, NALUnits.annexB(annexB).map { Array(annexB[$0]) })
        XCTAssertEqual(AccessUnit.removingUserData(annexB, format: .annexB), annexB, "nothing of ours: unchanged")
        let avc: [UInt8] = [0, 0, 0, UInt8(sei.count)] + sei + [0, 0, 0, 2, 0x65, 1]
        XCTAssertEqual(AccessUnit.removingUserData(avc, format: .lengthPrefixed(lengthSize: 4)), [0, 0, 0, 2, 0x65, 1])
    }

    func testPictureDataIsNeitherScannedNorRewritten() throws {
        // Bytes after the first slice that look like our SEI are picture data (H.264 puts SEI
        // before the first slice): not read, not stripped, copied as they are.
        let lookalike = [0, 0, 1] + sei
        let au = annexB + lookalike
        XCTAssertEqual(AccessUnit.userData(in: au, format: .annexB).payloads, [])
        XCTAssertEqual(AccessUnit.removingUserData(au, format: .annexB), au)
        let with = try XCTUnwrap(AccessUnit.inserting(sei, into: au, format: .annexB))
        XCTAssertEqual(Array(with.suffix(lookalike.count + 12)), Array(au.suffix(lookalike.count + 12)))
        XCTAssertEqual(AccessUnit.userData(in: with, format: .annexB).payloads.count, 1)
        // Length-prefixed: a slice, then more NAL units, all kept byte for byte after stripping.
        let tail: [UInt8] = [0, 0, 0, 2, 0x65, 1, 0, 0, 0, 2, 0x01, 7]
        let avc: [UInt8] = [0, 0, 0, UInt8(sei.count)] + sei + tail
        XCTAssertEqual(AccessUnit.removingUserData(avc, format: .lengthPrefixed(lengthSize: 4)), tail)
        XCTAssertEqual(AccessUnit.userData(in: avc, format: .lengthPrefixed(lengthSize: 4)).payloads.count, 1)
    }
}
