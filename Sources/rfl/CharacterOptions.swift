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
        var sheet = CharacterSheet(ruleset: loaded.ruleset)
        if let characterFile {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: characterFile))
            } catch {
                throw InputFailure(message: "cannot read \(characterFile): \(error.localizedDescription)")
            }
            let file: CharacterFile
            do {
                file = try JSONDecoder().decode(CharacterFile.self, from: data)
            } catch {
                throw InputFailure(message: "\(characterFile): not a character file: \(CharacterFile.explain(error))")
            }
            for (id, value) in (file.stats ?? [:]).sorted(by: { $0.key < $1.key }) {
                try sheet.set(id, to: value)
            }
            for source in file.apply ?? [] { try sheet.apply(source) }
        }
        for (id, value) in try parseStats(stats).sorted(by: { $0.key < $1.key }) {
            try sheet.set(id, to: value)
        }
        for source in sources { try sheet.apply(source) }
        return sheet
    }
}

/// `{"stats": {"speaking": 4}, "apply": ["phrasebook"]}`
struct CharacterFile: Decodable {
    var stats: [String: Int64]?
    var apply: [String]?

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
