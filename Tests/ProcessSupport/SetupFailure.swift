/// A test's setup that did not come about (a server that did not listen, a tool that
/// scripts/install-deps.sh installs is missing). Thrown, so the test fails with the reason:
/// a skip would hide a broken machine. (Only what `../shared/` provides may be absent.)
public struct SetupFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
