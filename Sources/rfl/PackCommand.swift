import ArgumentParser
import ContentPacks
import Mechanics

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Inspect content packs.",
        subcommands: [PackInfoCommand.self, PackCatalogCommand.self]
    )
}

struct PackCatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print, as JSON, everything a set of packs defines once composed, with names in one language.",
        discussion: "The same JSON as rfl_ruleset_catalog_json in the C API; its shape is in docs/packs.md."
    )

    @Option(name: .customLong("packs"), help: ArgumentHelp("A pack file or folder; repeatable (default: rulesets).", valueName: "path"))
    var packs: [String] = []

    @Option(help: "Language for names and descriptions, such as es or fr-CA.")
    var lang = "en"

    func run() throws {
        let loaded: LoadedRuleset
        do {
            loaded = try PackLoader().load(paths: packs.isEmpty ? ["rulesets"] : packs)
        } catch {
            for diagnostic in error.diagnostics { print(diagnostic) }
            throw ExitCode(1)
        }
        print(loaded.catalogJSON(language: lang))
    }
}

struct PackInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a pack declares: identity, dependencies, and every entity with its name.",
        discussion: "Names and descriptions are shown in --lang, falling back to the pack's own language, then English."
    )

    @Argument(help: "A pack file.")
    var path: String

    @Option(help: "Language for names and descriptions, such as es or fr-CA.")
    var lang = "en"

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let info: PackInfo
        do {
            info = try PackLoader().describe(path: path)
        } catch {
            for diagnostic in error.diagnostics { print(diagnostic) }
            throw ExitCode(1)
        }
        if json {
            print(PackInfoJSON.render(info, language: lang))
            return
        }
        print("\(info.title(lang)) — \(info.id) \(info.version)")
        if let description = info.description(lang) { print(description) }
        if !info.authors.isEmpty { print("Authors: " + info.authors.map(\.name).joined(separator: ", ")) }
        if let license = info.license { print("License: \(license)") }
        print("Languages: " + (info.languages.isEmpty ? info.language : info.languages.joined(separator: ", ")))
        if !info.requires.isEmpty {
            print("Requires: " + info.requires.map { "\($0.id) \($0.range)" }.joined(separator: ", "))
        }
        var kinds: [String] = []
        for entry in info.entries where !kinds.contains(entry.kind) { kinds.append(entry.kind) }
        for kind in kinds {
            print("\n\(kind.prefix(1).uppercased() + kind.dropFirst())s:")
            for entry in info.entries where entry.kind == kind {
                let marker = entry.change == .new ? "" : " (\(entry.change.rawValue))"
                let name = entry.name(lang, fallback: info.language).map { "  \($0)" } ?? ""
                print("  \(entry.id)\(marker)\(name)")
                if let description = entry.description(lang, fallback: info.language) { print("      \(description)") }
            }
        }
    }
}

enum PackInfoJSON {
    static func render(_ info: PackInfo, language: String) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("id", info.id)
        writer.field("version", info.version.description)
        writer.field("title", info.title(language))
        writer.key("description")
        if let description = info.description(language) { writer.value(description) } else { writer.null() }
        writer.key("authors")
        writer.beginArray()
        for author in info.authors { writer.value(author.name) }
        writer.endArray()
        writer.key("license")
        if let license = info.license { writer.value(license) } else { writer.null() }
        writer.field("language", info.language)
        writer.key("languages")
        writer.beginArray()
        for language in info.languages { writer.value(language) }
        writer.endArray()
        writer.key("requires")
        writer.beginArray()
        for requirement in info.requires {
            writer.beginObject()
            writer.field("id", requirement.id)
            writer.field("version", requirement.range.text)
            writer.endObject()
        }
        writer.endArray()
        writer.key("entities")
        writer.beginArray()
        for entry in info.entries {
            writer.beginObject()
            writer.field("kind", entry.kind)
            writer.field("id", entry.id)
            writer.field("change", entry.change.rawValue)
            writer.key("name")
            if let name = entry.name(language, fallback: info.language) { writer.value(name) } else { writer.null() }
            writer.key("description")
            if let description = entry.description(language, fallback: info.language) { writer.value(description) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.output
    }
}
