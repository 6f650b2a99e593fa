import ArgumentParser
import Mechanics

struct OddsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odds",
        abstract: "Show the exact distribution of a dice expression, or the odds of a check's outcomes.",
        discussion: """
            Without --json, a histogram in the terminal. With --check, the probability of every \
            outcome band of a check from the packs, for a character (see rfl check).
            """
    )

    @Argument(help: "The dice expression, such as 4d6kh3.")
    var expression: String?

    @Option(help: "A check from the packs instead of an expression.")
    var check: String?

    @Option(help: "The check's difficulty (with --check).")
    var dc: Int64?

    @Flag(help: "The check with advantage (with --check).")
    var advantage = false

    @Flag(help: "The check with disadvantage (with --check).")
    var disadvantage = false

    @Option(help: "Tags the situation adds to the check's own, such as night; repeatable (with --check).")
    var tag: [String] = []

    @OptionGroup var character: CharacterOptions

    @OptionGroup var opponent: OpponentOptions

    @Option(name: .customLong("at-least"), help: "Also give the probability of reaching this value.")
    var atLeast: Int64?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (expression == nil) != (check == nil) else { throw ValidationError("give a dice expression or --check ID, not both or neither") }
        if check != nil && (dc == nil) == (opponent.file == nil) { throw ValidationError("--check needs --dc, or --against for an opposed check, not both") }
        if check == nil {
            let needsCheck = [("--dc", dc != nil), ("--advantage", advantage), ("--disadvantage", disadvantage), ("--apply", !character.sources.isEmpty),
                              ("--character", character.characterFile != nil), ("--packs", !character.packs.isEmpty), ("--tag", !tag.isEmpty),
                              ("--against", opponent.file != nil)]
            if let (name, _) = needsCheck.first(where: { $0.1 }) { throw ValidationError("\(name) goes with --check") }
        } else if atLeast != nil {
            throw ValidationError("--at-least goes with a dice expression, not --check")
        }
    }

    func run() throws {
        if let check {
            try runCheck(check)
            return
        }
        guard let expression else { return }
        let compiled = try DiceExpression(expression)
        let distribution = try compiled.odds(stats: try parseStats(character.stats))
        if json {
            print(distribution.json(expression: expression, atLeast: atLeast))
            return
        }
        print(Histogram.render(distribution, title: expression))
        if let atLeast {
            print("P(\(expression) >= \(atLeast)) = \(Histogram.percent(distribution.probability(atLeast: atLeast)))")
        }
    }
}

extension OddsCommand {
    func runCheck(_ id: String) throws {
        let loaded = try character.load()
        let sheet = try character.character(loaded)
        let advantage = (advantage ? 1 : 0) - (disadvantage ? 1 : 0)
        let odds: CheckOdds
        if let other = try opponent.opponent(loaded) {
            odds = try sheet.checkOdds(id, against: other, opposingCheck: opponent.check, advantage: advantage,
                                       opposingAdvantage: opponent.advantageValue, tags: Set(tag))
        } else {
            odds = try sheet.checkOdds(id, dc: dc ?? 0, advantage: advantage, tags: Set(tag))
        }
        if json {
            print(odds.json)
            return
        }
        let lang = character.lang
        let against = odds.dc.map(String.init) ?? "an opponent" + (opponent.check.map { "'s \(loaded.name(of: $0, language: lang) ?? $0)" } ?? "")
        print("\(loaded.name(of: odds.check, language: lang) ?? odds.check) (\(odds.check)) against \(against)" + (odds.advantage == .none ? "" : ", \(odds.advantage.rawValue)"))
        let labels = odds.bands.map { loaded.bandName(check: odds.check, band: $0.id, language: lang) ?? $0.id }
        let width = labels.map(\.count).max() ?? 1
        let top = odds.bands.map(\.probability).max() ?? 1
        for (band, label) in zip(odds.bands, labels) {
            let share = Histogram.percent(band.probability)
            let bar = String(repeating: "█", count: top > 0 ? Int((band.probability / top * 40).rounded()) : 0)
            print("  \(label)\(String(repeating: " ", count: width - label.count))  \(String(repeating: " ", count: max(0, 8 - share.count)))\(share)  \(bar)")
        }
        print("  reaching \(odds.dc.map(String.init) ?? "the opponent"): \(Histogram.percent(odds.reach))   mean total \(Histogram.fixed(odds.total.mean, 2))")
    }
}

/// A distribution drawn as horizontal bars in the terminal.
enum Histogram {
    static func render(_ distribution: Distribution, title: String, width: Int = 50, maxRows: Int = 60) -> String {
        var lines = ["\(title)   mean \(fixed(distribution.mean, 2))   sd \(fixed(distribution.standardDeviation, 2))   range \(distribution.minimum)..\(distribution.maximum)"]
        if distribution.truncated > 0 {
            lines.append("(explosions followed to a depth that leaves out \(distribution.truncated) of the probability)")
        }
        var rows = distribution.outcomes
        // Long distributions are shown in buckets of equal width.
        // Offsets from the minimum are unsigned: a distribution may span all 64 bits.
        var bucket: UInt64 = 1
        if rows.count > maxRows {
            let span = UInt64(bitPattern: distribution.maximum &- distribution.minimum)
            bucket = span / UInt64(maxRows) + 1
            var merged: [(value: Int64, probability: Double)] = []
            for row in rows {
                let offset = UInt64(bitPattern: row.value &- distribution.minimum)
                let start = distribution.minimum &+ Int64(bitPattern: offset / bucket * bucket)
                if let last = merged.last, last.value == start {
                    merged[merged.count - 1].probability += row.probability
                } else {
                    merged.append((start, row.probability))
                }
            }
            rows = merged
        }
        let top = rows.map(\.probability).max() ?? 1
        let labels = rows.map { row in
            guard bucket > 1 else { return "\(row.value)" }
            let room = UInt64(bitPattern: distribution.maximum &- row.value)
            return "\(row.value)..\(row.value &+ Int64(bitPattern: min(bucket - 1, room)))"
        }
        let labelWidth = labels.map(\.count).max() ?? 1
        let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        for (row, label) in zip(rows, labels) {
            let units = Int((row.probability / top * Double(width * 8)).rounded())
            let bar = String(repeating: "█", count: units / 8) + eighths[units % 8]
            let padded = String(repeating: " ", count: labelWidth - label.count) + label
            let share = percent(row.probability)
            lines.append("\(padded)  \(String(repeating: " ", count: max(0, 8 - share.count)))\(share)  \(bar)")
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ p: Double) -> String {
        if p > 0 && p < 0.0001 { return "<0.01%" }
        return fixed(p * 100, 2) + "%"
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if text.contains("e") { return text }
        if !text.contains(".") { text += "." }
        let fraction = text.split(separator: ".", omittingEmptySubsequences: false).last?.count ?? 0
        return text + String(repeating: "0", count: max(0, digits - fraction))
    }
}
