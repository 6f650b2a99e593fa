import ContentPacks
import Foundation
import Mechanics
import Testing

@Suite struct BundledPackTests {
    @Test func bothPacksValidateWithoutAWarning() {
        let diagnostics = PackLoader().validate(paths: [Fixtures.rulesets])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test func coreLoadsAlone() throws {
        let loaded = try PackLoader().load(paths: [Fixtures.core])
        let ruleset = loaded.ruleset
        #expect(ruleset.stats.map(\.id) == ["vocabulary", "grammar", "listening", "speaking", "reading", "writing", "culture"].map { "core:" + $0 })
        #expect(ruleset.skills.count == 6 && ruleset.derived.count == 3 && ruleset.checks.count == 9)
        #expect(ruleset.derived.first { $0.id == "core:fluency" }?.formula == "floor((@core:vocabulary + @core:grammar) / 2)")
        #expect(loaded.packs.map(\.id) == ["core"])
        #expect(loaded.warnings.isEmpty)
        // Short ids work wherever no other pack uses them.
        var hero = CharacterSheet(ruleset: ruleset)
        try hero.set("vocabulary", to: 6)
        try hero.set("grammar", to: 4)
        #expect(try hero.value("fluency") == 5)
        try hero.apply("phrasebook")
        #expect(try hero.value("core:vocabulary") == 8)
    }

    @Test func namesInThreeLanguages() throws {
        let loaded = try PackLoader().load(paths: [Fixtures.rulesets])
        #expect(loaded.name(of: "core:speaking", language: "en") == "Speaking")
        #expect(loaded.name(of: "core:speaking", language: "es") == "Expresión oral")
        #expect(loaded.name(of: "core:speaking", language: "fr-CA") == "Expression orale")
        #expect(loaded.name(of: "speaking", language: "de") == "Speaking")  // falls back to the pack's language
        #expect(loaded.bandName(check: "core:persuade-merchant", band: "critical-success", language: "fr") == "Réussite critique")
        #expect(loaded.bandName(check: "recall-word", band: "tip-of-tongue", language: "en") != nil)
        #expect(loaded.languages == ["en", "es", "fr"])
        for id in loaded.ruleset.valueIds + loaded.ruleset.checks.map(\.id) + loaded.ruleset.sources.map(\.id) {
            for language in ["en", "es", "fr"] {
                #expect(loaded.name(of: id, language: language) != nil, "\(id) in \(language)")
            }
        }
    }

    @Test func catalogListsEverythingInOneLanguage() throws {
        let loaded = try PackLoader().load(paths: [Fixtures.rulesets])
        let data = Data(loaded.catalogJSON(language: "fr").utf8)
        let catalog = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(catalog["language"] as? String == "fr")
        #expect((catalog["packs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["core", "night-market"])
        let stats = try #require(catalog["stats"] as? [[String: Any]])
        #expect(stats.map { $0["id"] as? String } == loaded.ruleset.stats.map(\.id))
        let speaking = try #require(stats.first { $0["id"] as? String == "core:speaking" })
        #expect(speaking["name"] as? String == "Expression orale")
        #expect(speaking["default"] as? Int == 2 && speaking["minimum"] as? Int == 0 && speaking["maximum"] as? Int == 10)
        let checks = try #require(catalog["checks"] as? [[String: Any]])
        #expect(checks.count == loaded.ruleset.checks.count)
        let persuade = try #require(checks.first { $0["id"] as? String == "core:persuade-merchant" })
        let bands = try #require(persuade["bands"] as? [[String: Any]])
        #expect(bands.map { $0["id"] as? String } == ["critical-failure", "failure", "success", "critical-success"])
        #expect(bands.first?["from"] is NSNull && bands.last?["from"] as? Int == 10)
        #expect(bands.last?["name"] as? String == "Réussite critique")
        let sources = try #require(catalog["sources"] as? [[String: Any]])
        let owl = try #require(sources.first { $0["id"] as? String == "night-market:night-owl" })
        let modifiers = try #require(owl["modifiers"] as? [[String: Any]])
        #expect(modifiers.contains { $0["when"] as? [String] == ["night"] && $0["value"] as? Int == 2 })
        #expect((catalog["modifier_types"] as? [[String: Any]])?.contains { $0["stacking"] as? String == "highest" } == true)
        #expect((catalog["derived"] as? [[String: Any]])?.count == loaded.ruleset.derived.count)
    }

    @Test func expansionExtendsAndOverridesCore() throws {
        let loaded = try PackLoader().load(paths: [Fixtures.nightMarket, Fixtures.core])  // order of files does not matter
        #expect(loaded.packs.map(\.id) == ["core", "night-market"])
        let ruleset = loaded.ruleset
        // Override: the revised phrasebook.
        let phrasebook = try #require(ruleset.source("core:phrasebook"))
        #expect(phrasebook.modifiers.map(\.target) == ["core:vocabulary", "core:order-a-meal"])
        #expect(loaded.name(of: "core:phrasebook", language: "en")?.contains("Revised") == true)
        // Extends: a tag on a core check, a modifier on a core condition.
        #expect(ruleset.check("core:persuade-merchant")?.tags == ["social", "market", "night"])
        let tired = try #require(ruleset.source("core:tired"))
        #expect(tired.modifiers.map(\.target) == ["core:listening", "core:speaking", "core:reading"])
        #expect(tired.modifiers.allSatisfy { $0.duration == 3 })
        // New content reads core's.
        let bargain = try #require(ruleset.check("night-market:bargain-at-night-stall"))
        #expect(bargain.adds == ["core:speaking", "core:haggling", "night-market:street-slang"])
        // And plays: a night-owl is better at eavesdropping at night.
        var hero = CharacterSheet(ruleset: ruleset)
        try hero.apply("night-owl")
        let day = try hero.checkOdds("eavesdrop", dc: 12)
        let night = try hero.checkOdds("eavesdrop", dc: 12, tags: ["night"])
        #expect(night.reach > day.reach)
    }

    @Test func everyCheckRollsAndHasOdds() throws {
        let loaded = try PackLoader().load(paths: [Fixtures.rulesets])
        var hero = CharacterSheet(ruleset: loaded.ruleset)
        var rng = RNG(seed: 3)
        for check in loaded.ruleset.checks {
            let result = try hero.check(check.id, dc: 12, using: &rng)
            #expect(check.bands.map(\.id).contains(result.bandId))
            let odds = try hero.checkOdds(check.id, dc: 12)
            #expect(abs(odds.bands.map(\.probability).reduce(0, +) - 1) < 1e-9)
        }
        try hero.apply("jet-lagged")
        #expect(try hero.check("eavesdrop", dc: 10, using: &rng).advantage == .disadvantage)
    }

    @Test func describeReadsOnePackOnItsOwn() throws {
        let info = try PackLoader().describe(path: Fixtures.nightMarket)
        #expect(info.id == "night-market" && info.version == SemanticVersion(1, 0, 0))
        #expect(info.requires.map(\.id) == ["core"])
        #expect(info.title("fr").isEmpty == false)
        #expect(info.entries.contains { $0.id == "core:phrasebook" && $0.change == .override })
        #expect(info.entries.contains { $0.id == "core:persuade-merchant" && $0.change == .extends })
        #expect(info.entries.first { $0.id == "night-market:street-slang" }?.name("es") == "Jerga callejera")
    }

    /// The complete example of docs/packs.md loads with the core pack.
    @Test func theGuidesExampleIsValid() throws {
        let guide = try String(contentsOfFile: Fixtures.root.appendingPathComponent("docs/packs.md").path, encoding: .utf8)
        let start = try #require(guide.firstRange(of: "```xml\n<?xml"))
        let body = guide[guide.index(start.lowerBound, offsetBy: 7)...]
        let end = try #require(body.firstRange(of: "```"))
        let example = String(body[..<end.lowerBound])
        let core = try String(contentsOfFile: Fixtures.core, encoding: .utf8)
        let loaded = try Fixtures.load([("cafe.xml", example), ("core.xml", core)])
        #expect(loaded.warnings.isEmpty)
        var hero = CharacterSheet(ruleset: loaded.ruleset)
        try hero.apply("caffeinated")
        #expect(try hero.value("core:speaking") == 3)
        #expect(loaded.ruleset.check("core:order-a-meal")?.tags.contains("cafe") == true)
        #expect(loaded.name(of: "cafe:order-coffee", language: "es") == "Pedir un café")
    }

    @Test func embeddedSchemaMatchesTheFile() throws {
        let file = try String(contentsOfFile: Fixtures.root.appendingPathComponent("rulesets/schema/pack-1.xsd").path, encoding: .utf8)
        #expect(PackLoader.schema.trimmingCharacters(in: .whitespacesAndNewlines) == file.trimmingCharacters(in: .whitespacesAndNewlines),
                "rulesets/schema/pack-1.xsd changed: run `make schema`")
    }
}
