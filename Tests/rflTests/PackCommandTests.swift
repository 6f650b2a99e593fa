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

@Suite struct CheckOddsCommandTests {
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
