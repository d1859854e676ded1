import Foundation

/// The publisher password of `publish` and `relay`: `--password`, else the environment's
/// CHATCAST_PUBLISH_PASSWORD. A command line is visible to every local user (`ps`); a
/// process's environment only to its owner, so serve hands its relay children the password
/// that way, and scripts can too.
enum PublisherPassword {
    static let environmentName = "CHATCAST_PUBLISH_PASSWORD"

    static func resolve(_ flag: String?) -> String? {
        if let flag { return flag }
        let value = ProcessInfo.processInfo.environment[environmentName] ?? ""
        return value.isEmpty ? nil : value
    }
}
