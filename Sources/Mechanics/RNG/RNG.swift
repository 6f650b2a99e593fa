/// The engine's random number generator: xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
///
/// The algorithm is a public contract: the same seed gives the same sequence on every platform and
/// through every interface (Swift, C, the `rfl` command line, HTTP). Dice are drawn with
/// ``uniform(_:)``, Lemire's nearly-divisionless unbiased method, so a die `dN` is `1 + uniform(N)`.
///
/// `RNG` is a value: copying it forks the sequence, and ``state`` saves it for an exact replay.
/// Use ``jump()``, ``longJump()`` or ``split()`` to derive non-overlapping streams from one seed.
public struct RNG: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// Seeds the generator: the first four outputs of SplitMix64 started at `seed` become the state.
    public init(seed: UInt64) {
        var splitMix = SplitMix64(state: seed)
        s0 = splitMix.next()
        s1 = splitMix.next()
        s2 = splitMix.next()
        s3 = splitMix.next()
    }

    /// Restores a generator from a saved ``state``. Returns nil for the all-zero state, which
    /// xoshiro256** can never leave and which no seed produces.
    public init?(state: State) {
        if state.s0 | state.s1 | state.s2 | state.s3 == 0 { return nil }
        s0 = state.s0
        s1 = state.s1
        s2 = state.s2
        s3 = state.s3
    }

    /// The whole state of the generator: saving it and restoring it with ``init(state:)`` replays
    /// the same draws.
    public var state: State { State(s0: s0, s1: s1, s2: s2, s3: s3) }

    /// The next raw 64-bit output.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound`, unbiased (Lemire 2019): multiply a 64-bit output by `bound`
    /// as a 128-bit product; while the low word is below `(2^64 - bound) mod bound`, draw again; the
    /// high word is the result. A `bound` of 0 returns 0 without drawing.
    @inlinable @inline(__always)
    public mutating func uniform(_ bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// One die with `sides` faces: `1 + uniform(sides)`. `sides` must be at least 1.
    @inlinable @inline(__always)
    public mutating func die(_ sides: Int) -> Int {
        1 &+ Int(truncatingIfNeeded: uniform(UInt64(truncatingIfNeeded: sides)))
    }

    /// A Fate/Fudge die: `uniform(3) - 1`, so -1, 0 or +1.
    @inlinable @inline(__always)
    public mutating func fudgeDie() -> Int {
        Int(truncatingIfNeeded: uniform(3)) &- 1
    }

    /// Advances the state as far as 2^128 calls to ``next()``: 2^128 non-overlapping streams.
    public mutating func jump() {
        apply(jumpPolynomial: (0x180e_c6d3_3cfd_0aba, 0xd5a6_1266_f0c9_392c, 0xa958_2618_e03f_c9aa, 0x39ab_dc45_29b1_661c))
    }

    /// Advances the state as far as 2^192 calls to ``next()``: 2^64 starting points, each of which
    /// ``jump()`` divides again.
    public mutating func longJump() {
        apply(jumpPolynomial: (0x76e1_5d3e_fefd_cbbf, 0xc500_4e44_1c52_2fb3, 0x7771_0069_854e_e241, 0x3910_9bb0_2acb_e635))
    }

    /// Returns a generator for the current stream and moves this one to the next stream (one
    /// ``jump()`` ahead), so repeated calls hand out independent, non-overlapping streams.
    public mutating func split() -> RNG {
        let stream = self
        jump()
        return stream
    }

    /// The generator of stream `stream` of `seed`: `RNG(seed:)` jumped `stream` times. Costs about
    /// a quarter of a microsecond per jump; for many streams, call ``split()`` repeatedly instead.
    public init(seed: UInt64, stream: Int) {
        self.init(seed: seed)
        for _ in 0..<max(stream, 0) { jump() }
    }

    /// A seed from the operating system's secure random source, for rolls that give no seed.
    public static func systemSeed() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    private mutating func apply(jumpPolynomial words: (UInt64, UInt64, UInt64, UInt64)) {
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        for word in [words.0, words.1, words.2, words.3] {
            for bit in 0..<64 {
                if word & (1 << UInt64(bit)) != 0 {
                    t0 ^= s0
                    t1 ^= s1
                    t2 ^= s2
                    t3 ^= s3
                }
                _ = next()
            }
        }
        s0 = t0
        s1 = t1
        s2 = t2
        s3 = t3
    }
}

extension RNG {
    /// The saved state of an ``RNG``: four 64-bit words, never all zero.
    public struct State: Hashable, Sendable, Codable, CustomStringConvertible {
        public var s0: UInt64
        public var s1: UInt64
        public var s2: UInt64
        public var s3: UInt64

        public init(s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64) {
            self.s0 = s0
            self.s1 = s1
            self.s2 = s2
            self.s3 = s3
        }

        /// 64 hexadecimal digits, s0 first: the form `rfl roll --state` and the C ABI accept.
        public var description: String {
            [s0, s1, s2, s3].map { word in
                let digits = String(word, radix: 16)
                return String(repeating: "0", count: 16 - digits.count) + digits
            }.joined()
        }

        /// Parses the 64-hexadecimal-digit form of ``description``.
        public init?(_ text: String) {
            let bytes = Array(text.utf8)
            guard bytes.count == 64 else { return nil }
            var words: [UInt64] = []
            for index in 0..<4 {
                let chunk = String(decoding: bytes[(index * 16)..<(index * 16 + 16)], as: UTF8.self)
                guard let word = UInt64(chunk, radix: 16) else { return nil }
                words.append(word)
            }
            self.init(s0: words[0], s1: words[1], s2: words[2], s3: words[3])
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood), used only to expand a 64-bit seed into the xoshiro state.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
