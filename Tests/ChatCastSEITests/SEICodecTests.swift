import ChatCastSEI
import XCTest

final class SEICodecTests: XCTestCase {
    let uuid = UserDataUnregistered.chatCastUUID

    func testEmulationPrevention() {
        XCTAssertEqual(EmulationPrevention.escape([0, 0, 1]), [0, 0, 3, 1])
        XCTAssertEqual(EmulationPrevention.escape([0, 0, 0, 0]), [0, 0, 3, 0, 0])
        XCTAssertEqual(EmulationPrevention.escape([0, 0, 3, 0, 0, 2]), [0, 0, 3, 3, 0, 0, 3, 2])
        XCTAssertEqual(EmulationPrevention.escape([0, 0, 4, 0, 0xFF]), [0, 0, 4, 0, 0xFF])
        for sample: [UInt8] in [[0, 0, 1], [0, 0, 0, 0], [0, 0, 3, 0, 0, 2], [1, 0, 0, 0, 0, 0, 9]] {
            XCTAssertEqual(EmulationPrevention.unescape(EmulationPrevention.escape(sample)), sample)
        }
    }

    func testWritesTheSEINALByteForByte() {
        let nal = UserDataUnregistered(uuid: uuid, payload: Array("hi".utf8)).seiNAL()
        XCTAssertEqual(nal, [0x06, 0x05, 18] + uuid + [0x68, 0x69, 0x80])
        // 300 bytes of payload: size 316 = 0xFF + 61.
        let long = UserDataUnregistered(uuid: uuid, payload: Array(repeating: 0x41, count: 300)).seiNAL()
        XCTAssertEqual(Array(long[0..<4]), [0x06, 0x05, 0xFF, 61])
        XCTAssertEqual(long.last, 0x80)
    }

    func testPayloadWithStartCodeBytesIsEscapedAndRestored() throws {
        let payload: [UInt8] = [0, 0, 1, 0, 0, 0, 0, 0, 3]
        let nal = UserDataUnregistered(uuid: uuid, payload: payload).seiNAL()
        XCTAssertFalse(zip(nal, zip(nal.dropFirst(), nal.dropFirst(2))).contains { $0 == 0 && $1.0 == 0 && $1.1 <= 2 })
        XCTAssertEqual(try SEIReader.userDataUnregistered(inNAL: nal), [UserDataUnregistered(uuid: uuid, payload: payload)])
    }

    func testReadsSeveralMessagesAndSkipsOtherTypes() throws {
        // Type 1 (pic timing, 2 bytes) then two user-data messages in one SEI.
        let rbsp: [UInt8] = [1, 2, 0xAA, 0xBB] + [5, 17] + uuid + [1] + [5, 16] + uuid + [0x80]
        let messages = try SEIReader.userDataUnregistered(inNAL: [0x06] + EmulationPrevention.escape(rbsp))
        XCTAssertEqual(messages.map(\.payload), [[1], []])
    }

    func testRefusesBrokenSEI() {
        let good = UserDataUnregistered(uuid: uuid, payload: Array("hello".utf8)).seiNAL()
        let broken: [String: [UInt8]] = [
            "truncated": Array(good.prefix(10)),
            "size past the end": [0x06, 0x05, 200] + uuid + [0x80],
            "0xFF run": [0x06, 0x05] + Array(repeating: 0xFF, count: 70_000),
            "no trailing bits": Array(good.dropLast()),
            "shorter than a UUID": [0x06, 0x05, 4, 1, 2, 3, 4, 0x80],
            "not SEI": [0x65, 0x88, 0x80],
            "empty": [],
        ]
        for (name, nal) in broken {
            XCTAssertThrowsError(try SEIReader.userDataUnregistered(inNAL: nal), name)
        }
    }

    func testSplitsAnnexBAndLengthPrefixedAccessUnits() {
        let au: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x06, 5, 0, 0, 1, 0x65, 9, 9]
        let units = NALUnits.annexB(au).map { Array(au[$0]) }
        XCTAssertEqual(units, [[0x09, 0xF0], [0x67, 1, 2], [0x06, 5], [0x65, 9, 9]])
        let avc: [UInt8] = [0, 0, 0, 2, 0x06, 5, 0, 0, 0, 3, 0x65, 9, 9]
        XCTAssertEqual(NALUnits.lengthPrefixed(avc)?.map { Array(avc[$0]) }, [[0x06, 5], [0x65, 9, 9]])
        XCTAssertNil(NALUnits.lengthPrefixed([0, 0, 0, 9, 1]))
    }
}
