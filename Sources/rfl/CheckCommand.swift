import ArgumentParser
import ContentPacks
import Mechanics

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Roll a check from the packs for a character.",
        discussion: """
            Example: rfl check persuade-merchant --dc 15 --stat speaking=4 --apply phrasebook --seed 7
            Ids may be given without their pack (speaking for core:speaking) when no other pack uses them.
            """
    )

    @Argument(help: "The check's id, such as persuade-merchant.")
    var check: String

    @Option(help: "The difficulty to reach (or --against).")
    var dc: Int64?

    @OptionGroup var character: CharacterOptions

    @Flag(help: "Roll with advantage.")
    var advantage = false

    @Flag(help: "Roll with disadvantage.")
    var disadvantage = false

    @Option(help: "Tags the situation adds to the check's own, such as night; repeatable.")
    var tag: [String] = []

    @OptionGroup var opponent: OpponentOptions

    @Option(help: "Seed the generator with this unsigned 64-bit integer.")
    var seed: UInt64?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (dc == nil) != (opponent.file == nil) else { throw ValidationError("give --dc, or --against for an opposed check, not both or neither") }
    }

    func run() throws {
        let loaded = try character.load()
        let sheet = try character.character(loaded)
        let seed = seed ?? RNG.systemSeed()
        var rng = RNG(seed: seed)
        let advantage = (advantage ? 1 : 0) - (disadvantage ? 1 : 0)
        let result: CheckResult
        if let other = try opponent.opponent(loaded) {
            result = try sheet.check(check, against: other, opposingCheck: opponent.check, advantage: advantage,
                                     opposingAdvantage: opponent.advantageValue, tags: Set(tag), using: &rng)
        } else {
            result = try sheet.check(check, dc: dc ?? 0, advantage: advantage, tags: Set(tag), using: &rng)
        }
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("seed")
            writer.value(seed)
            writer.key("result")
            result.write(to: &writer)
            writer.endObject()
            print(writer.output)
            return
        }
        let lang = character.lang
        let name = loaded.name(of: result.check, language: lang) ?? result.check
        let against = result.opponent.map { opposing in
            "an opponent's \(loaded.name(of: opposing.result.check, language: lang) ?? opposing.result.check) (\(opposing.result.total))"
        } ?? "\(result.dc.map(String.init) ?? "")"
        print("\(name) (\(result.check)) against \(against)" + (result.advantage == .none ? "" : ", \(result.advantage.rawValue)"))
        for (index, roll) in result.rolls.enumerated() {
            let marker = result.rolls.count > 1 ? (index == result.keptRoll ? "  kept" : "  dropped") : ""
            print("  \(sheet.ruleset.check(result.check)?.dice ?? "dice"): \(roll.total)   \(DiceText.describe(roll.dice))\(marker)")
        }
        for contribution in result.contributions {
            let label = loaded.name(of: contribution.id, language: lang) ?? contribution.id
            print("  + \(label) \(contribution.total)" + explain(contribution.modifiers, loaded: loaded, base: contribution.base))
        }
        for line in result.modifiers where line.status == .applied && line.value != 0 {
            print("  \(line.value >= 0 ? "+" : "-") \(abs(line.value)) \(loaded.name(of: line.source, language: lang) ?? line.source)")
        }
        let band = loaded.bandName(check: result.check, band: result.bandId, language: lang) ?? result.bandId
        var outcome = "  = \(result.total), margin \(result.margin >= 0 ? "+" : "")\(result.margin): \(band)"
        if let rule = result.naturalRule, result.band != result.bandBeforeNaturalRule {
            let before = sheet.ruleset.check(result.check)?.bands[result.bandBeforeNaturalRule].id ?? ""
            outcome += " (natural \(result.natural): rule \(rule + 1) changed it from \(loaded.bandName(check: result.check, band: before, language: lang) ?? before))"
        }
        print(outcome)
        print("seed \(seed)")
    }

    private func explain(_ lines: [ModifierLine], loaded: LoadedRuleset, base: Int64) -> String {
        let applied = lines.filter { $0.status == .applied && $0.value != 0 }
        guard !applied.isEmpty else { return "" }
        let parts = applied.map { "\($0.value >= 0 ? "+" : "")\($0.value) \(loaded.name(of: $0.source, language: character.lang) ?? $0.source)" }
        return " (base \(base), " + parts.joined(separator: ", ") + ")"
    }
}
