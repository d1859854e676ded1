import Foundation

/// Passwords kept out of `ps`: a command line is visible to every local user, a process's
/// environment only to its owner. Each command takes its flag, else the environment's value
/// (serve hands its relay children the publisher password this way, and scripts can too).
enum EnvironmentPassword: String {
    /// What publishers give for RECORD (and, on IRC, to set a room's topic).
    case publisher = "CHATCAST_PUBLISH_PASSWORD"
    /// What every chat client gives (IRC PASS) when the server asks for one.
    case irc = "CHATCAST_IRC_PASSWORD"

    /// The environment's value; an empty one counts as none.
    var value: String? { ProcessInfo.processInfo.environment[rawValue].flatMap { $0.isEmpty ? nil : $0 } }

    /// The flag's value, else the environment's.
    func resolve(_ flag: String?) -> String? { flag ?? value }
}
