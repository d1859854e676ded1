import ArgumentParser
import ChatCastPresets
import Foundation

/// `chatcast presets list|show`: the pipeline presets in `pipelines/`.
struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the pipeline presets, or print one as the exact gst-launch-1.0 line.",
        subcommands: [List.self, Show.self])

    struct Location: ParsableArguments {
        @Option(name: .customLong("dir"), help: "Preset directory (default: $CHATCAST_PRESETS, ./pipelines, or the installed ones).")
        var directory: String?

        func load() throws -> [Preset] {
            let dir = directory ?? PresetLibrary.defaultDirectory(executable: CommandLine.arguments[0])
            do { return try PresetLibrary.load(directory: dir) } catch let error as PresetError {
                Terminal.error("\(error)")
                throw ExitCode.failure
            } catch {
                throw ValidationError("cannot read presets in \(dir): \(error.localizedDescription)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name, kind and description of every preset.")
        @OptionGroup var location: Location

        func run() throws {
            let presets = try location.load()
            let width = presets.map(\.name.count).max() ?? 0
            for p in presets {
                print(p.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                      + p.kind.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0) + "  " + p.description)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a preset as the gst-launch-1.0 line that runs as printed (with GST_PLUGIN_PATH set).")
        @OptionGroup var location: Location
        @Argument(help: "Preset name.") var name: String
        @Option(name: .customLong("set"), parsing: .singleValue, help: "KEY=VALUE replacing a placeholder's default (repeatable).")
        var settings: [String] = []

        /// `--set KEY=VALUE` items as a dictionary.
        static func parse(_ settings: [String]) throws -> [String: String] {
            var overrides: [String: String] = [:]
            for item in settings {
                guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                    throw ValidationError("--set takes KEY=VALUE, not \(item)")
                }
                overrides[String(item[..<eq])] = String(item[item.index(after: eq)...])
            }
            return overrides
        }

        func run() throws {
            let overrides = try Self.parse(settings)
            let presets = try location.load()
            guard let preset = presets.first(where: { $0.name == name }) else {
                throw ValidationError("no preset named \(name) (have: \(presets.map(\.name).joined(separator: ", ")))")
            }
            do { print(try preset.commandLine(setting: overrides)) } catch let error as PresetError {
                Terminal.error("\(error)")
                throw ExitCode.failure
            }
        }
    }
}
