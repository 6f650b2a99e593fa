import Mechanics
import Testing

/// Golden values were computed once with Tests/Fixtures/reference_rng.py, an implementation of the
/// contract written apart from the engine, and are never edited: users replay rolls from them.
@Suite struct RNGTests {
    static let golden: [(UInt64, [UInt64])] = [
        (0, [11091344671253066420, 13793997310169335082, 1900383378846508768, 7684712102626143532,
                     13521403990117723737, 18442103541295991498, 7788427924976520344, 9881088229871127103] as [UInt64]),
        (1, [12966619160104079557, 9600361134598540522, 10590380919521690900, 7218738570589545383,
             12860671823995680371, 2648436617965840162, 1310552918490157286, 7031611932980406429]),
        (42, [1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193,
              18295552978065317476, 14199186830065750584, 13267978908934200754, 15679888225317814407]),
        (UInt64.max, [10328197420357168392, 14156678507024973869, 9357971779955476126, 13791585006304312367,
                      10463432026814718762, 13498236496097551653, 6831296623176769502, 14161350843019729634]),
    ]

    @Test(arguments: golden)
    func rawOutputs(seed: UInt64, expected: [UInt64]) {
        var rng = RNG(seed: seed)
        #expect((0..<expected.count).map { _ in rng.next() } == expected)
    }

    @Test func dice() {
        var rng = RNG(seed: 42)
        #expect((0..<10).map { _ in rng.die(20) } == [2, 8, 14, 19, 20, 16, 15, 18, 16, 12])
        rng = RNG(seed: 2024)
        #expect((0..<12).map { _ in rng.die(2) } == [1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 2, 2])
        rng = RNG(seed: 2024)
        #expect((0..<6).map { _ in rng.die(1_000_000) } == [55793, 782104, 72055, 159716, 773651, 244873])
        rng = RNG(seed: 99)
        #expect((0..<8).map { _ in rng.die(100) } == [35, 57, 38, 86, 79, 21, 28, 6])
        rng = RNG(seed: 42)
        #expect((0..<10).map { _ in rng.fudgeDie() } == [-1, 0, 1, 1, 1, 1, 1, 1, 1, 0])
    }

    @Test func uniformWithLargeBoundTakesTheRejectionPath() {
        var rng = RNG(seed: 42)
        let bound: UInt64 = (1 << 63) + 12345
        #expect((0..<5).map { _ in rng.uniform(bound) } == [3495475846482276229, 6272293381124287899, 8528787054591073511, 9147776489032670981, 7839944112658917696])
        #expect(rng.uniform(0) == 0)
        #expect(rng.uniform(1) == 0)
    }

    @Test func jumps() {
        var rng = RNG(seed: 1)
        rng.jump()
        #expect((0..<4).map { _ in rng.next() } == [3686199559692413392, 203099001685823382, 14083488663737595453, 5651253801288826733])
        rng = RNG(seed: 1)
        rng.longJump()
        #expect((0..<4).map { _ in rng.next() } == [4176136774912868871, 6548515288646613753, 6842051283896942780, 11703852479476070542])
    }

    @Test func streams() {
        var base = RNG(seed: 7)
        let first = base.split()
        let second = base.split()
        #expect(first == RNG(seed: 7))
        #expect(second == RNG(seed: 7, stream: 1))
        #expect(base == RNG(seed: 7, stream: 2))
        var a = first
        var b = second
        #expect(a.next() != b.next())
    }

    @Test func stateSavesAndRestores() throws {
        var rng = RNG(seed: 5)
        _ = (0..<17).map { _ in rng.next() }
        let saved = rng.state
        let expected = (0..<8).map { _ in rng.next() }
        var restored = try #require(RNG(state: saved))
        #expect((0..<8).map { _ in restored.next() } == expected)
        let text = saved.description
        #expect(text.count == 64)
        #expect(RNG.State(text) == saved)
        #expect(RNG.State("xyz") == nil)
        #expect(RNG.State(String(repeating: "g", count: 64)) == nil)
        #expect(RNG(state: RNG.State(s0: 0, s1: 0, s2: 0, s3: 0)) == nil)
    }

    @Test func agreesWithTheReferenceOnManyDraws() throws {
        for (seed, sides) in [(UInt64(3), 6), (11, 7), (12345, 1_000_000), (9, 3), (77, 100)] {
            let expected = try Reference.run(["dice", String(seed), String(sides), "500"])
            var rng = RNG(seed: seed)
            #expect(expected.count == 500)
            #expect((0..<500).map { _ in UInt64(rng.die(sides)) } == expected, "seed \(seed), d\(sides)")
        }
        let jumped = try Reference.run(["jump", "31337", "16"])
        var rng = RNG(seed: 31337)
        rng.jump()
        #expect((0..<16).map { _ in rng.next() } == jumped)
    }
}
