import ArgumentParser
import Mechanics

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine: nanoseconds per operation, median of several runs, as JSON.",
        discussion: "Build optimized for meaningful figures: swift run -c release rfl bench"
    )

    @Option(help: "Runs per benchmark; the median is reported.")
    var runs: Int = 7

    @Option(name: .customLong("min-time"), help: "Milliseconds each run lasts at least.")
    var minTime: Int = 20

    @Option(help: "Run only the benchmarks whose name contains this text.")
    var filter: String?

    func validate() throws {
        guard (1...101).contains(runs) else { throw ValidationError("--runs must be between 1 and 101") }
        guard (1...10_000).contains(minTime) else { throw ValidationError("--min-time must be between 1 and 10000") }
    }

    func run() throws {
        var results: [(Benchmark, BenchResult)] = []
        for benchmark in try Benchmark.all() where filter.map({ benchmark.name.contains($0) }) ?? true {
            results.append((benchmark, benchmark.measure(runs: runs, minimumNanoseconds: Double(minTime) * 1e6)))
        }
        print(BenchReport.json(results, runs: runs))
    }
}
