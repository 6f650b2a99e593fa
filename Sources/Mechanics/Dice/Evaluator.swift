/// Executes a ``Program``: draws the dice from the generator in the documented order and computes
/// the total with checked arithmetic. Generic over the recorder, so the traced and the untraced
/// roll share every line that touches the generator.
enum Evaluator {
    static func run<R: RollRecorder>(
        _ program: Program, stats: UnsafeBufferPointer<Int64>, limits: Limits, rng: inout RNG, recorder: inout R
    ) throws(EngineError) -> Int64 {
        switch program.shortcut {
        case .constant(let value):
            return value
        case .plainDice(let count, let sides, let offset) where !R.records:
            // count * sides fits in Int64 (checked when the shortcut was chosen).
            var total: Int64 = 0
            for _ in 0..<count { total &+= Int64(bitPattern: rng.uniform(sides)) &+ 1 }
            return try add(total, offset, column: program.terms[0].column)
        case .dice(let index, let offset):
            let term = try resolved(program.terms[index])
            let total = try rollDice(term, rng: &rng, recorder: &recorder)
            return try add(total, offset, column: term.column)
        default:
            return try execute(program, stats: stats, limits: limits, rng: &rng, recorder: &recorder)
        }
    }

    private static func execute<R: RollRecorder>(
        _ program: Program, stats: UnsafeBufferPointer<Int64>, limits: Limits, rng: inout RNG, recorder: inout R
    ) throws(EngineError) -> Int64 {
        try withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(program.maxStack, 1)) { (stack) throws(EngineError) -> Int64 in
            var top = 0
            var diceBudget = program.dynamicDiceBudget
            for index in program.instructions.indices {
                let column = program.columns[index]
                switch program.instructions[index] {
                case .constant(let value):
                    stack[top] = value
                    top += 1
                case .stat(let slot):
                    stack[top] = stats[slot]
                    top += 1
                case .dice(let term):
                    stack[top] = try rollDice(try resolved(program.terms[term]), rng: &rng, recorder: &recorder)
                    top += 1
                case .dynamicDice(let termIndex):
                    let term = program.terms[termIndex]
                    var sides: Int64?
                    switch term.sides {
                    case .fixed(let value): sides = Int64(value)
                    case .percent: sides = 100
                    case .fudge: sides = nil
                    case .dynamic:
                        top -= 1
                        sides = stack[top]
                    }
                    var count: Int64 = 1
                    if case .fixed(let value) = term.count { count = Int64(value) }
                    if case .dynamic = term.count {
                        top -= 1
                        count = stack[top]
                        guard count >= 0 else {
                            throw EngineError(.invalid, "the dice count came out as \(count); it must be 0 or more", at: SourceLocation(column: column))
                        }
                        guard count <= Int64(diceBudget) else {
                            throw EngineError(.limit, "the dice count came out as \(count), beyond the limit maxDice, \(limits.maxDice), for the whole roll", at: SourceLocation(column: column))
                        }
                        diceBudget -= Int(count)
                    }
                    let dice = try term.resolve(count: Int(count), sides: sides, limits: limits)
                    stack[top] = try rollDice(dice, rng: &rng, recorder: &recorder)
                    top += 1
                case .negate:
                    guard stack[top - 1] != Int64.min else { throw overflow(column) }
                    stack[top - 1] = -stack[top - 1]
                case .add:
                    top -= 1
                    stack[top - 1] = try add(stack[top - 1], stack[top], column: column)
                case .subtract:
                    top -= 1
                    let (result, overflowed) = stack[top - 1].subtractingReportingOverflow(stack[top])
                    guard !overflowed else { throw overflow(column) }
                    stack[top - 1] = result
                case .multiply:
                    top -= 1
                    let (result, overflowed) = stack[top - 1].multipliedReportingOverflow(by: stack[top])
                    guard !overflowed else { throw overflow(column) }
                    stack[top - 1] = result
                case .divide(let rounding):
                    top -= 1
                    stack[top - 1] = try divide(stack[top - 1], stack[top], rounding: rounding, column: column)
                case .abs:
                    guard stack[top - 1] != Int64.min else { throw overflow(column) }
                    stack[top - 1] = Swift.abs(stack[top - 1])
                case .minimum(let count):
                    var result = stack[top - count]
                    for slot in (top - count)..<top { result = Swift.min(result, stack[slot]) }
                    top -= count
                    stack[top] = result
                    top += 1
                case .maximum(let count):
                    var result = stack[top - count]
                    for slot in (top - count)..<top { result = Swift.max(result, stack[slot]) }
                    top -= count
                    stack[top] = result
                    top += 1
                case .mark:
                    recorder.pushMark()
                case .group(let groupIndex):
                    let group = program.groups[groupIndex]
                    let count = group.items.count
                    let items = UnsafeMutableBufferPointer(rebasing: stack[(top - count)..<top])
                    let total = try groupTotal(group, items: items, recorder: &recorder)
                    top -= count
                    stack[top] = total
                    top += 1
                }
            }
            return stack[0]
        }
    }

    // MARK: - Dice

    @inline(__always)
    private static func resolved(_ term: DiceTerm) throws(EngineError) -> ResolvedDice {
        guard let dice = term.resolved else {
            throw EngineError(.error, "internal error: dice term at column \(term.column) was not resolved")
        }
        return dice
    }

    @inline(__always)
    static func rollDice<R: RollRecorder>(_ dice: ResolvedDice, rng: inout RNG, recorder: inout R) throws(EngineError) -> Int64 {
        if dice.isPlain {
            var total: Int64 = 0
            for _ in 0..<dice.count {
                let face = draw(dice, rng: &rng)
                total = try add(total, face, column: dice.column)
                if R.records { recorder.append(Roll.Die(label: dice.label, column: dice.column, faces: [face], value: face)) }
            }
            return total
        }
        let base = recorder.count
        let total: Int64
        if dice.keep.isEmpty {
            var sink = SumSink(scoring: dice.scoring, double: dice.double, column: dice.column)
            try generate(dice, rng: &rng, recorder: &recorder, sink: &sink)
            total = sink.total
        } else if dice.explosion == .separate {
            var sink = ArraySink()
            try generate(dice, rng: &rng, recorder: &recorder, sink: &sink)
            total = try sink.values.withUnsafeMutableBufferPointer { (values) throws(EngineError) -> Int64 in
                try keptTotal(values, keep: dice.keep, scoring: dice.scoring, double: dice.double, column: dice.column, base: base, recorder: &recorder)
            }
        } else {
            total = try withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(dice.count, 1)) { (buffer) throws(EngineError) -> Int64 in
                var sink = BufferSink(buffer: buffer)
                try generate(dice, rng: &rng, recorder: &recorder, sink: &sink)
                let values = UnsafeMutableBufferPointer(rebasing: buffer[0..<sink.count])
                return try keptTotal(values, keep: dice.keep, scoring: dice.scoring, double: dice.double, column: dice.column, base: base, recorder: &recorder)
            }
        }
        if R.records, let scoring = dice.scoring {
            for index in base..<recorder.count {
                recorder.update(index) { die in
                    guard die.kept else { return }
                    if scoring.success.matches(die.value) { die.successes = dice.double?.contains(die.value) == true ? 2 : 1 }
                    die.failure = scoring.failure?.matches(die.value) ?? false
                }
            }
        }
        return total
    }

    @inline(__always)
    private static func draw(_ dice: ResolvedDice, rng: inout RNG) -> Int64 {
        dice.fudge ? Int64(rng.fudgeDie()) : 1 &+ Int64(bitPattern: rng.uniform(UInt64(bitPattern: dice.high)))
    }

    /// One draw of a face: a die, then (under `r`/`ro`) redraws while the face is in the reroll
    /// set, at most `maxRerolls` times (once for `ro`).
    @inline(__always)
    private static func drawWithRerolls<R: RollRecorder>(_ dice: ResolvedDice, rng: inout RNG, rerolled: inout [Int64], recorder: R.Type) -> Int64 {
        var face = draw(dice, rng: &rng)
        if let reroll = dice.reroll {
            var rerolls = 0
            while rerolls < dice.maxRerolls && reroll.contains(face) {
                if R.records { rerolled.append(face) }
                face = draw(dice, rng: &rng)
                rerolls += 1
            }
        }
        return face
    }

    /// Rolls the dice of a term left to right. Each die: draw a face (with rerolls); then, under an
    /// explosion, while the last face is in the explosion set and the die has exploded fewer than
    /// `cap` times, draw again (with rerolls). `!` adds each new face as a die of its own; `!!`
    /// and `!p` add it into the same die. The next die starts only when the chain has stopped.
    private static func generate<R: RollRecorder, S: PoolSink>(
        _ dice: ResolvedDice, rng: inout RNG, recorder: inout R, sink: inout S
    ) throws(EngineError) {
        var rerolled: [Int64] = []
        for _ in 0..<dice.count {
            if R.records { rerolled = [] }
            var face = drawWithRerolls(dice, rng: &rng, rerolled: &rerolled, recorder: R.self)
            guard let kind = dice.explosion else {
                let value = dice.clamp(face)
                if R.records { recorder.append(Roll.Die(label: dice.label, column: dice.column, faces: [face], rerolled: rerolled, value: value)) }
                try sink.accept(value)
                continue
            }
            var depth = 0
            switch kind {
            case .separate:
                var fromExplosion = false
                while true {
                    let explodes = depth < dice.cap && dice.explodeOn.contains(face)
                    let value = dice.clamp(face)
                    if R.records {
                        recorder.append(Roll.Die(label: dice.label, column: dice.column, faces: [face], rerolled: rerolled, value: value,
                                                 exploded: explodes, fromExplosion: fromExplosion))
                        rerolled = []
                    }
                    try sink.accept(value)
                    guard explodes else { break }
                    depth += 1
                    fromExplosion = true
                    face = drawWithRerolls(dice, rng: &rng, rerolled: &rerolled, recorder: R.self)
                }
            case .compound, .penetrate:
                var total = dice.clamp(face)
                var faces: [Int64] = []
                if R.records { faces.append(face) }
                while depth < dice.cap && dice.explodeOn.contains(face) {
                    face = drawWithRerolls(dice, rng: &rng, rerolled: &rerolled, recorder: R.self)
                    depth += 1
                    let value = kind == .penetrate ? dice.clamp(face) - 1 : dice.clamp(face)
                    total = try add(total, value, column: dice.column)
                    if R.records { faces.append(face) }
                }
                if R.records {
                    recorder.append(Roll.Die(label: dice.label, column: dice.column, faces: faces, rerolled: rerolled, value: total, exploded: depth > 0))
                }
                try sink.accept(total)
            }
        }
    }

    /// The total of the kept window of a pool: its values, or its successes.
    private static func keptTotal<R: RollRecorder>(
        _ values: UnsafeMutableBufferPointer<Int64>, keep: [KeepRule], scoring: Scoring?, double: FaceSet?, column: Int,
        base: Int, recorder: inout R
    ) throws(EngineError) -> Int64 {
        let (lo, hi) = KeepRule.window(keep, size: values.count)
        var total: Int64 = 0
        if R.records {
            // Rank by value, ties by position (the earlier die ranks lower), and mark the dropped.
            let order = values.indices.sorted { a, b in values[a] != values[b] ? values[a] < values[b] : a < b }
            for rank in order.indices where rank < lo || rank >= hi {
                recorder.update(base + order[rank]) { $0.kept = false }
            }
            for rank in lo..<hi {
                total = try add(total, contribution(values[order[rank]], scoring, double), column: column)
            }
            return total
        }
        sortAscending(values)
        for rank in lo..<hi {
            total = try add(total, contribution(values[rank], scoring, double), column: column)
        }
        return total
    }

    private static func groupTotal<R: RollRecorder>(_ group: Group, items: UnsafeMutableBufferPointer<Int64>, recorder: inout R) throws(EngineError) -> Int64 {
        var total: Int64 = 0
        if R.records {
            // Each item's dice run from its mark to the next item's mark (the last to the end).
            var starts = Array(repeating: 0, count: items.count)
            for item in items.indices.reversed() { starts[item] = recorder.popMark() }
            let ends = starts.dropFirst() + [recorder.count]
            let (lo, hi) = KeepRule.window(group.keep, size: items.count)
            let order = items.indices.sorted { a, b in items[a] != items[b] ? items[a] < items[b] : a < b }
            for rank in order.indices {
                let item = order[rank]
                if rank < lo || rank >= hi {
                    for index in starts[item]..<ends[ends.startIndex + item] { recorder.update(index) { $0.kept = false } }
                } else {
                    total = try add(total, contribution(items[item], group.scoring, group.double), column: group.column)
                }
            }
            return total
        }
        if group.keep.isEmpty {
            for value in items { total = try add(total, contribution(value, group.scoring, group.double), column: group.column) }
            return total
        }
        let (lo, hi) = KeepRule.window(group.keep, size: items.count)
        sortAscending(items)
        for rank in lo..<hi {
            total = try add(total, contribution(items[rank], group.scoring, group.double), column: group.column)
        }
        return total
    }

    @inline(__always)
    static func contribution(_ value: Int64, _ scoring: Scoring?, _ double: FaceSet?) -> Int64 {
        guard let scoring else { return value }
        return scoring.score(value, double: double)
    }

    /// Insertion sort for the small pools dice usually make; the standard sort beyond.
    @inline(__always)
    static func sortAscending(_ buffer: UnsafeMutableBufferPointer<Int64>) {
        var values = buffer
        if values.count > 24 {
            values.sort()
            return
        }
        var i = 1
        while i < values.count {
            let value = values[i]
            var j = i - 1
            while j >= 0 && values[j] > value {
                values[j + 1] = values[j]
                j -= 1
            }
            values[j + 1] = value
            i += 1
        }
    }

    // MARK: - Arithmetic

    @inline(__always)
    static func add(_ a: Int64, _ b: Int64, column: Int) throws(EngineError) -> Int64 {
        let (result, overflowed) = a.addingReportingOverflow(b)
        guard !overflowed else { throw overflow(column) }
        return result
    }

    static func divide(_ a: Int64, _ b: Int64, rounding: Rounding, column: Int) throws(EngineError) -> Int64 {
        guard b != 0 else { throw EngineError(.invalid, "division by zero", at: SourceLocation(column: column)) }
        guard !(a == Int64.min && b == -1) else { throw overflow(column) }
        let quotient = a / b
        let remainder = a % b
        guard remainder != 0 else { return quotient }
        let negative = (a < 0) != (b < 0)
        switch rounding {
        case .floor:
            return negative ? quotient - 1 : quotient
        case .ceil:
            return negative ? quotient : quotient + 1
        case .round:
            // Half away from zero: |r| >= |b| - |r| means the fraction is at least one half.
            let r = remainder.magnitude
            let d = b.magnitude
            guard r >= d - r else { return quotient }
            return negative ? quotient - 1 : quotient + 1
        }
    }

    static func overflow(_ column: Int) -> EngineError {
        EngineError(.invalid, "the result is too large for a 64-bit integer", at: column > 0 ? SourceLocation(column: column) : nil)
    }
}

// MARK: - Sinks

/// Where `generate` puts each value of a pool.
protocol PoolSink {
    mutating func accept(_ value: Int64) throws(EngineError)
}

/// Adds values (or their successes) as they come: no pool is kept.
struct SumSink: PoolSink {
    var total: Int64 = 0
    let scoring: Scoring?
    let double: FaceSet?
    let column: Int

    init(scoring: Scoring?, double: FaceSet?, column: Int) {
        self.scoring = scoring
        self.double = double
        self.column = column
    }

    @inline(__always)
    mutating func accept(_ value: Int64) throws(EngineError) {
        total = try Evaluator.add(total, Evaluator.contribution(value, scoring, double), column: column)
    }
}

/// A pool of exactly as many values as dice, in a buffer on the stack.
struct BufferSink: PoolSink {
    let buffer: UnsafeMutableBufferPointer<Int64>
    var count = 0

    @inline(__always)
    mutating func accept(_ value: Int64) throws(EngineError) {
        buffer[count] = value
        count += 1
    }
}

/// A pool that explosions may grow.
struct ArraySink: PoolSink {
    var values: [Int64] = []

    @inline(__always)
    mutating func accept(_ value: Int64) throws(EngineError) { values.append(value) }
}
