import Foundation
import Testing

enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rulesets = root.appendingPathComponent("rulesets").path
    static let core = root.appendingPathComponent("rulesets/core.xml").path

    /// A temporary file with `contents`, removed by the caller.
    static func temporary(_ name: String, _ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rfl-\(getpid())-\(name)")
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

@Suite struct ValidateCommandTests {
    @Test func bundledPacksAreValid() throws {
        let output = try CLI.run("validate", Paths.rulesets)
        #expect(output.status == 0)
        #expect(output.stdout == "valid\n")
    }

    @Test func problemsAreListedOneALineAndExitOne() throws {
        let path = try Paths.temporary("bad.xml", """
            <pack xmlns="urn:roll-for-language:pack:1" id="bad" version="1.0.0">
              <title>Bad</title>
              <stats><stat id="a" defualt="1"/></stats>
              <derived><value id="b" formula="@c + 1"/></derived>
            </pack>
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try CLI.run("validate", path)
        #expect(output.status == 1)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [
            "\(path):3:32: error: Element 'stat', attribute 'defualt': The attribute 'defualt' is not allowed. Did you mean 'default'?",
            "\(path):4:36: error: unknown stat, skill or derived value 'c'",
        ])
        #expect(output.stderr == "error: 2 errors, 0 warnings\n")
        // Every line has the shape path:line:column: error|warning: message.
        #expect(lines.allSatisfy { $0.wholeMatch(of: /.+:\d+:\d+: (error|warning): .+/) != nil })
    }

    @Test func usage() throws {
        #expect(try CLI.run("validate").status == 2)
        let missing = try CLI.run("validate", "/nonexistent")
        #expect(missing.status == 1 && missing.stdout.contains("/nonexistent:1:1: error: cannot read '/nonexistent'"))
    }
}

@Suite struct PackCatalogCommandTests {
    @Test func catalogInOneLanguage() throws {
        let output = try CLI.run("pack", "catalog", "--packs", Paths.rulesets, "--lang", "es")
        #expect(output.status == 0)
        let json = try #require(output.json)
        #expect(json["language"] as? String == "es")
        let stats = try #require(json["stats"] as? [[String: Any]])
        #expect(stats.first { $0["id"] as? String == "core:speaking" }?["name"] as? String == "Expresión oral")
        let broken = try CLI.run("pack", "catalog", "--packs", "/nonexistent")
        #expect(broken.status == 1 && broken.stdout.contains("cannot read '/nonexistent'"))
    }
}

@Suite struct PackInfoCommandTests {
    @Test func text() throws {
        let output = try CLI.run("pack", "info", Paths.core, "--lang", "fr")
        #expect(output.status == 0)
        #expect(output.stdout.hasPrefix("Roll for Language — Règles de base — core 1.0.0\n"))
        #expect(output.stdout.contains("  core:speaking  Expression orale\n"))
    }

    @Test func json() throws {
        let output = try CLI.run("pack", "info", Paths.root.appendingPathComponent("rulesets/night-market.xml").path, "--json", "--lang", "es")
        let json = try #require(output.json)
        #expect(json["id"] as? String == "night-market")
        #expect((json["requires"] as? [[String: Any]])?.first?["id"] as? String == "core")
        let entities = try #require(json["entities"] as? [[String: Any]])
        #expect(entities.contains { $0["id"] as? String == "core:phrasebook" && $0["change"] as? String == "override" })
        #expect(entities.contains { $0["id"] as? String == "night-market:street-slang" && $0["name"] as? String == "Jerga callejera" })
    }
}

@Suite struct CheckCommandTests {
    @Test func rollsACheckWithABreakdown() throws {
        let output = try CLI.run("check", "persuade-merchant", "--dc", "15", "--packs", Paths.core, "--stat", "speaking=4",
                                 "--apply", "market-regular", "--seed", "7")
        #expect(output.status == 0)
        #expect(output.stdout == """
            Persuade a Merchant (core:persuade-merchant) against 15
              1d20: 15   d20[15]
              + Speaking 4
              + Haggling 0
              + 2 Market Regular
              = 21, margin +6: Success
            seed 7

            """)
    }

    @Test func characterFileAndJSON() throws {
        let path = try Paths.temporary("hero.json", #"{"stats": {"speaking": 6, "core:haggling": 3}, "apply": ["phrasebook", "tired"]}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try CLI.run("check", "persuade-merchant", "--dc", "12", "--packs", Paths.rulesets, "--character", path,
                                 "--advantage", "--seed", "11", "--json")
        #expect(output.status == 0)
        let json = try #require(output.json)
        #expect(json["seed"] as? Int == 11)
        let result = try #require(json["result"] as? [String: Any])
        #expect(result["check"] as? String == "core:persuade-merchant")
        #expect(result["advantage"] as? String == "advantage")
        #expect((result["rolls"] as? [Any])?.count == 2)
        let natural = try #require(result["natural"] as? Int)
        // speaking 6 - 1 (tired) + haggling 3
        #expect(result["total"] as? Int == natural + 8)
    }

    @Test func errors() throws {
        let unknown = try CLI.run("check", "persuade-merchnt", "--dc", "10", "--packs", Paths.core)
        #expect(unknown.status == 1 && unknown.stderr.contains("no check 'persuade-merchnt'; did you mean 'core:persuade-merchant'?"))
        let outOfRange = try CLI.run("check", "eavesdrop", "--dc", "10", "--packs", Paths.core, "--stat", "listening=11")
        #expect(outOfRange.status == 1 && outOfRange.stderr.contains("the maximum is 10"))
        let badFile = try Paths.temporary("bad.json", #"{"stats": {"speaking": "high"}}"#)
        defer { try? FileManager.default.removeItem(atPath: badFile) }
        let file = try CLI.run("check", "eavesdrop", "--dc", "10", "--packs", Paths.core, "--character", badFile)
        #expect(file.status == 1 && file.stderr.contains("not a character file: at 'stats.speaking'"))
        #expect(try CLI.run("check", "eavesdrop", "--packs", Paths.core).status == 2)
    }
}

extension CheckCommandTests {
    @Test func opposedAgainstACharacterFile() throws {
        let rival = try Paths.temporary("rival.json", #"{"stats": {"speaking": 6}, "apply": ["confident"]}"#)
        defer { try? FileManager.default.removeItem(atPath: rival) }
        let output = try CLI.run("check", "persuade-merchant", "--against", rival, "--packs", Paths.rulesets, "--seed", "3", "--json")
        #expect(output.status == 0, "\(output.stderr)")
        let result = try #require(output.json?["result"] as? [String: Any])
        #expect(result["dc"] is NSNull)
        let opponent = try #require(result["opponent"] as? [String: Any])
        // The opponent's total is speaking 6 + 1 (confident) + its d20.
        let opposing = try #require(opponent["total"] as? Int)
        let natural = try #require(opponent["natural"] as? Int)
        #expect(opposing == natural + 7)
        #expect(result["margin"] as? Int == (result["total"] as? Int ?? 0) - opposing)
        let text = try CLI.run("check", "persuade-merchant", "--against", rival, "--against-check", "eavesdrop", "--packs", Paths.rulesets, "--seed", "3")
        #expect(text.stdout.hasPrefix("Persuade a Merchant (core:persuade-merchant) against an opponent's Eavesdrop ("), "\(text.stdout)")
        // Exactly one of --dc and --against; the opponent's options need --against.
        #expect(try CLI.run("check", "persuade-merchant", "--dc", "10", "--against", rival).status == 2)
        #expect(try CLI.run("check", "persuade-merchant").status == 2)
        #expect(try CLI.run("check", "persuade-merchant", "--dc", "10", "--against-advantage").status == 2)
        let missing = try CLI.run("check", "persuade-merchant", "--against", "/nonexistent/rival.json", "--packs", Paths.rulesets)
        #expect(missing.status == 1 && missing.stderr.contains("cannot read /nonexistent/rival.json"))
    }
}

@Suite struct CheckOddsCommandTests {
    @Test func situationTagsAndOpposedOdds() throws {
        // Night Owl: +2 to eavesdrop at night. Listening 2 + d20 against 15: 8 faces succeed,
        // 10 with the bonus.
        let day = try CLI.run("odds", "--check", "eavesdrop", "--dc", "15", "--packs", Paths.rulesets, "--apply", "night-owl", "--json")
        let night = try CLI.run("odds", "--check", "eavesdrop", "--dc", "15", "--packs", Paths.rulesets, "--apply", "night-owl", "--tag", "night", "--json")
        #expect(abs((day.json?["reach"] as? Double ?? 0) - 0.4) < 1e-12)
        #expect(abs((night.json?["reach"] as? Double ?? 0) - 0.5) < 1e-12)
        let rival = try Paths.temporary("odds-rival.json", #"{"stats": {"listening": 4}}"#)
        defer { try? FileManager.default.removeItem(atPath: rival) }
        let opposed = try CLI.run("odds", "--check", "eavesdrop", "--against", rival, "--packs", Paths.rulesets, "--json")
        #expect(opposed.status == 0, "\(opposed.stderr)")
        let json = try #require(opposed.json)
        #expect(json["dc"] is NSNull)
        // d20 + 2 against d20 + 4: this side reaches (ties included) in 171 of 400 pairs.
        #expect(abs((json["reach"] as? Double ?? 0) - 171.0 / 400) < 1e-12, "\(json["reach"] ?? "")")
        #expect(try CLI.run("odds", "--check", "eavesdrop", "--dc", "15", "--against", rival).status == 2)
        #expect(try CLI.run("odds", "1d20", "--tag", "night").status == 2)
    }

    @Test func bandsAsJSON() throws {
        let output = try CLI.run("odds", "--check", "eavesdrop", "--dc", "15", "--packs", Paths.core, "--stat", "listening=5", "--json")
        #expect(output.status == 0)
        let json = try #require(output.json)
        let bands = try #require(json["bands"] as? [[String: Any]])
        #expect(bands.map { $0["id"] as? String } == ["failure", "success"])
        #expect(abs((bands[1]["probability"] as? Double ?? 0) - 0.55) < 1e-12)
        #expect(abs((json["reach"] as? Double ?? 0) - 0.55) < 1e-12)
    }

    @Test func text() throws {
        let output = try CLI.run("odds", "--check", "persuade-merchant", "--dc", "15", "--packs", Paths.core, "--stat", "speaking=4", "--lang", "es")
        #expect(output.stdout.contains("Éxito crítico     5.00%"))
        #expect(output.stdout.contains("reaching 15: 50.00%"))
    }

    @Test func usage() throws {
        #expect(try CLI.run("odds", "--check", "eavesdrop").status == 2)
        #expect(try CLI.run("odds", "1d20", "--check", "eavesdrop", "--dc", "3").status == 2)
        #expect(try CLI.run("odds").status == 2)
    }
}
