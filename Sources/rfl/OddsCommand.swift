import ArgumentParser
import Mechanics

struct OddsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odds",
        abstract: "Show the exact distribution of a dice expression.",
        discussion: "Without --json, a histogram in the terminal."
    )

    @Argument(help: "The dice expression, such as 4d6kh3.")
    var expression: String

    @Option(name: .customLong("at-least"), help: "Also give the probability of reaching this value.")
    var atLeast: Int64?

    @Option(name: .customLong("stat"), help: ArgumentHelp("A value for an @id reference, as id=value; repeatable.", valueName: "id=value"))
    var stats: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let compiled = try DiceExpression(expression)
        let distribution = try compiled.odds(stats: try parseStats(stats))
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

/// A distribution drawn as horizontal bars in the terminal.
enum Histogram {
    static func render(_ distribution: Distribution, title: String, width: Int = 50, maxRows: Int = 60) -> String {
        var lines = ["\(title)   mean \(fixed(distribution.mean, 2))   sd \(fixed(distribution.standardDeviation, 2))   range \(distribution.minimum)..\(distribution.maximum)"]
        if distribution.truncated > 0 {
            lines.append("(explosions followed to a depth that leaves out \(distribution.truncated) of the probability)")
        }
        var rows = distribution.outcomes
        // Long distributions are shown in buckets of equal width.
        var bucket: Int64 = 1
        if rows.count > maxRows {
            let span = distribution.maximum - distribution.minimum + 1
            bucket = (span + Int64(maxRows) - 1) / Int64(maxRows)
            var merged: [(value: Int64, probability: Double)] = []
            for row in rows {
                let start = distribution.minimum + (row.value - distribution.minimum) / bucket * bucket
                if let last = merged.last, last.value == start {
                    merged[merged.count - 1].probability += row.probability
                } else {
                    merged.append((start, row.probability))
                }
            }
            rows = merged
        }
        let top = rows.map(\.probability).max() ?? 1
        let labels = rows.map { bucket == 1 ? "\($0.value)" : "\($0.value)..\($0.value + bucket - 1)" }
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
