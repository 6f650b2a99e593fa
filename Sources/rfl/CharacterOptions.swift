import ArgumentParser
import ContentPacks
import Foundation
import Mechanics

/// The packs to load and the character to use, shared by `rfl check` and `rfl odds --check`.
struct CharacterOptions: ParsableArguments {
    @Option(name: .customLong("packs"), help: ArgumentHelp("A pack file or folder; repeatable (default: rulesets).", valueName: "path"))
    var packs: [String] = []

    @Option(name: .customLong("character"), help: ArgumentHelp("A JSON file: {\"stats\": {\"speaking\": 4}, \"apply\": [\"phrasebook\"]}.", valueName: "file"))
    var characterFile: String?

    @Option(name: .customLong("stat"), help: ArgumentHelp("A base value, as id=value; repeatable.", valueName: "id=value"))
    var stats: [String] = []

    @Option(name: .customLong("apply"), help: ArgumentHelp("An item, condition or feat to apply; repeatable.", valueName: "id"))
    var sources: [String] = []

    @Option(help: "Language for names, such as es or fr.")
    var lang = "en"

    func validate() throws {
        _ = try parseStats(stats)
    }

    /// The loaded packs, or exit 1 with their diagnostics.
    func load() throws -> LoadedRuleset {
        do {
            return try PackLoader().load(paths: packs.isEmpty ? ["rulesets"] : packs)
        } catch {
            for diagnostic in error.diagnostics { print(diagnostic) }
            throw ExitCode(1)
        }
    }

    /// The character: the JSON file first, then --stat and --apply on top.
    func character(_ loaded: LoadedRuleset) throws -> CharacterSheet {
        var sheet = try characterFile.map { try CharacterFile.sheet(from: $0, loaded) } ?? CharacterSheet(ruleset: loaded.ruleset)
        for (id, value) in try parseStats(stats).sorted(by: { $0.key < $1.key }) {
            try sheet.set(id, to: value)
        }
        for source in sources { try sheet.apply(source) }
        return sheet
    }
}

/// The other side of an opposed check, shared by `rfl check` and `rfl odds --check`.
struct OpponentOptions: ParsableArguments {
    @Option(name: .customLong("against"), help: ArgumentHelp("An opposed check against the character in this JSON file (then no --dc).", valueName: "file"))
    var file: String?

    @Option(name: .customLong("against-check"), help: ArgumentHelp("The check the opponent rolls (default: the same check).", valueName: "check"))
    var check: String?

    @Flag(name: .customLong("against-advantage"), help: "The opponent rolls with advantage.")
    var advantage = false

    @Flag(name: .customLong("against-disadvantage"), help: "The opponent rolls with disadvantage.")
    var disadvantage = false

    func validate() throws {
        if file == nil, check != nil || advantage || disadvantage {
            throw ValidationError("--against-check, --against-advantage and --against-disadvantage go with --against")
        }
    }

    func opponent(_ loaded: LoadedRuleset) throws -> CharacterSheet? {
        try file.map { try CharacterFile.sheet(from: $0, loaded) }
    }

    var advantageValue: Int { (advantage ? 1 : 0) - (disadvantage ? 1 : 0) }
}

/// `{"stats": {"speaking": 4}, "apply": ["phrasebook"]}`
struct CharacterFile: Decodable {
    var stats: [String: Int64]?
    var apply: [String]?

    /// A character from a JSON file: its stats set, then its sources applied.
    static func sheet(from path: String, _ loaded: LoadedRuleset) throws -> CharacterSheet {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InputFailure(message: "cannot read \(path): \(error.localizedDescription)")
        }
        let file: CharacterFile
        do {
            file = try JSONDecoder().decode(CharacterFile.self, from: data)
        } catch {
            throw InputFailure(message: "\(path): not a character file: \(explain(error))")
        }
        var sheet = CharacterSheet(ruleset: loaded.ruleset)
        for (id, value) in (file.stats ?? [:]).sorted(by: { $0.key < $1.key }) {
            try sheet.set(id, to: value)
        }
        for source in file.apply ?? [] { try sheet.apply(source) }
        return sheet
    }

    static func explain(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at '\(path)': ") + context.debugDescription
        default:
            return "\(error)"
        }
    }
}
