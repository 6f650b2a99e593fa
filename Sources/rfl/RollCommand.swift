import ArgumentParser
import Mechanics

struct RollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roll",
        abstract: "Roll a dice expression.",
        discussion: """
            Rolls EXPR COUNT times from one generator seeded once. Without --seed, the seed comes \
            from the system and is reported, so any roll can be replayed. Write `--` before an \
            expression that starts with '-'.
            """
    )

    @Argument(help: "The dice expression, such as 4d6kh3 or 1d20+@grammar.")
    var expression: String

    @Option(help: "Seed the generator with this unsigned 64-bit integer.")
    var seed: UInt64?

    @Option(help: "Roll this many times (1 to 100000).")
    var count: Int = 1

    @Option(name: .customLong("stat"), help: ArgumentHelp("A value for an @id reference, as id=value; repeatable.", valueName: "id=value"))
    var stats: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
        _ = try parseStats(stats)
    }

    /// Each roll is printed as soon as it is made, so that many rolls of a large pool never sit
    /// in memory together. Should a roll fail part way (a division by zero), what was printed
    /// stays, the error goes to standard error and the exit status is not 0.
    func run() throws {
        let compiled = try DiceExpression(expression)
        let values = try parseStats(stats)
        let seed = seed ?? RNG.systemSeed()
        var rng = RNG(seed: seed)
        if json {
            // The seed also as a string: JavaScript's numbers lose integers above 2^53.
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("expression", expression)
            writer.key("seed")
            writer.value(seed)
            writer.field("seed_string", String(seed))
            writer.key("rolls")
            writer.beginArray()
            print(writer.output, terminator: "")
            for index in 0..<count {
                var item = JSONWriter()
                try compiled.rollDetailed(using: &rng, stats: values).write(to: &item)
                print(index == 0 ? item.output : "," + item.output, terminator: "")
            }
            print("]}")
            return
        }
        for _ in 0..<count {
            let roll = try compiled.rollDetailed(using: &rng, stats: values)
            print("\(expression) = \(roll.total)" + (roll.dice.isEmpty ? "" : "   " + DiceText.describe(roll.dice)))
        }
        print("seed \(seed)")
    }
}

/// Parses `--stat id=value` options.
func parseStats(_ options: [String]) throws -> [String: Int64] {
    var values: [String: Int64] = [:]
    for option in options {
        let parts = option.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, let value = Int64(parts[1].trimmingPrefix("+")) else {
            throw ValidationError("--stat takes id=value with an integer value, not '\(option)'")
        }
        let id = String(parts[0].trimmingPrefix("@"))
        guard values.updateValue(value, forKey: id) == nil else { throw ValidationError("--stat gives '\(id)' twice") }
    }
    return values
}

/// Plain-text rendering of a roll's dice for people.
enum DiceText {
    /// `[6!+3 (1) 4* 1→5]`: dropped dice in parentheses, `!` where a die exploded, `+` between a
    /// compounding die's faces, rerolled faces before `→`, `*` per success, `-` for a failure.
    static func describe(_ dice: [Roll.Die]) -> String {
        var groups: [(column: Int, label: String, text: [String])] = []
        for die in dice {
            var text = die.rerolled.map { "\($0)→" }.joined()
            text += die.faces.map(String.init).joined(separator: "+")
            if die.faces.count > 1 || die.faces.first != die.value { text += "=\(die.value)" }
            if die.exploded { text += "!" }
            text += String(repeating: "*", count: die.successes)
            if die.failure { text += "-" }
            if !die.kept { text = "(\(text))" }
            if let last = groups.last, last.column == die.column {
                groups[groups.count - 1].text.append(text)
            } else {
                groups.append((die.column, die.label, [text]))
            }
        }
        return groups.map { "\($0.label)[\($0.text.joined(separator: " "))]" }.joined(separator: " ")
    }
}
