import Mechanics
for source in CommandLine.arguments.dropFirst() {
    do {
        let e = try DiceExpression(source)
        var rng = RNG(seed: 42)
        let r = try e.rollDetailed(using: &rng)
        var rng2 = RNG(seed: 42)
        let t = try e.roll(using: &rng2)
        print(source, r.total, t, rng == rng2, r.dice.map { "\($0.faces)\($0.kept ? "" : "x")\($0.rerolled.isEmpty ? "" : "r\($0.rerolled)")\($0.successes > 0 ? "s\($0.successes)" : "")" })
        let d = try e.odds()
        print("  mean", d.mean, "sd", d.standardDeviation, "mass", d.mass, "trunc", d.truncated, "range", d.minimum, d.maximum, "n", d.probabilities.count)
    } catch {
        print(source, "ERROR", error)
    }
}
