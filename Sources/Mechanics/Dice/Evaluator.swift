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
            let total = try program.kernels.withUnsafeBufferPointer { (kernels) throws(EngineError) -> Int64 in
                try rollDice(kernels.baseAddress.unsafelyUnwrapped + index, label: R.records ? program.labels[index] : "", rng: &rng, recorder: &recorder)
            }
            return try add(total, offset, column: program.terms[index].column)
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
                    stack[top] = try program.kernels.withUnsafeBufferPointer { (kernels) throws(EngineError) -> Int64 in
                        try rollDice(kernels.baseAddress.unsafelyUnwrapped + term, label: R.records ? program.labels[term] : "", rng: &rng, recorder: &recorder)
                    }
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
                            throw EngineError(.invalid, "the dice count came out as \(count); it must be 0 or more", at: TextLocation(column: column))
                        }
                        guard count <= Int64(diceBudget) else {
                            throw EngineError(.limit, "the dice count came out as \(count), beyond the limit maxDice, \(limits.maxDice), for the whole roll", at: TextLocation(column: column))
                        }
                        diceBudget -= Int(count)
                    }
                    let dice = try term.resolve(count: Int(count), sides: sides, limits: limits)
                    var kernel = try DiceKernel(dice)
                    stack[top] = try rollDice(&kernel, label: dice.label, rng: &rng, recorder: &recorder)
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

    /// Rolls one dice term. The kernel is read through a pointer: it is large plain data, and
    /// copying it per roll would cost more than the dice.
    @inline(__always)
    static func rollDice<R: RollRecorder>(_ kernel: UnsafePointer<DiceKernel>, label: String, rng generator: inout RNG, recorder: inout R) throws(EngineError) -> Int64 {
        // A local copy of the generator stays in registers through the loops.
        var rng = generator
        defer { generator = rng }
        let column = kernel.pointee.column
        let count = kernel.pointee.count
        if kernel.pointee.plain {
            var total: Int64 = 0
            for _ in 0..<count {
                let face = draw(kernel, rng: &rng)
                total = try add(total, face, column: column)
                if R.records { recorder.append(Roll.Die(label: label, column: column, faces: [face], value: face)) }
            }
            return total
        }
        let base = recorder.count
        var total: Int64 = 0
        if kernel.pointee.keep.isEmpty {
            try generate(kernel, label: label, rng: &rng, recorder: &recorder) { (value) throws(EngineError) in
                total = try add(total, kernel.pointee.contribution(value), column: column)
            }
        } else if kernel.pointee.explosion == .separate {
            var values: [Int64] = []
            values.reserveCapacity(count)
            try generate(kernel, label: label, rng: &rng, recorder: &recorder) { (value) throws(EngineError) in values.append(value) }
            total = try values.withUnsafeMutableBufferPointer { (pool) throws(EngineError) -> Int64 in
                try keptTotal(pool, kernel, base: base, recorder: &recorder)
            }
        } else {
            total = try withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(count, 1)) { (buffer) throws(EngineError) -> Int64 in
                var filled = 0
                try generate(kernel, label: label, rng: &rng, recorder: &recorder) { (value) throws(EngineError) in
                    buffer[filled] = value
                    filled += 1
                }
                return try keptTotal(UnsafeMutableBufferPointer(rebasing: buffer[0..<filled]), kernel, base: base, recorder: &recorder)
            }
        }
        if R.records && kernel.pointee.scoring {
            let dice = kernel.pointee
            for index in base..<recorder.count {
                recorder.update(index) { die in
                    guard die.kept else { return }
                    if dice.success.matches(die.value) { die.successes = dice.hasDouble && dice.double.contains(die.value) ? 2 : 1 }
                    die.failure = dice.hasFailure && dice.failure.matches(die.value)
                }
            }
        }
        return total
    }

    @inline(__always)
    private static func draw(_ kernel: UnsafePointer<DiceKernel>, rng: inout RNG) -> Int64 {
        kernel.pointee.fudge ? Int64(rng.fudgeDie()) : 1 &+ Int64(bitPattern: rng.uniform(UInt64(bitPattern: kernel.pointee.high)))
    }

    /// One draw of a face: a die, then (under `r`/`ro`) redraws while the face is in the reroll
    /// set, at most `maxRerolls` times (once for `ro`).
    @inline(__always)
    private static func drawWithRerolls<R: RollRecorder>(_ kernel: UnsafePointer<DiceKernel>, rng: inout RNG, rerolled: inout [Int64], recorder: R.Type) -> Int64 {
        var face = draw(kernel, rng: &rng)
        if kernel.pointee.hasReroll {
            var rerolls = 0
            while rerolls < kernel.pointee.maxRerolls && kernel.pointee.reroll.contains(face) {
                if R.records { rerolled.append(face) }
                face = draw(kernel, rng: &rng)
                rerolls += 1
            }
        }
        return face
    }

    /// Rolls the dice of a term left to right and hands each pool value to `emit`. Each die: draw
    /// a face (with rerolls); then, under an explosion, while the last face is in the explosion
    /// set and the die has exploded fewer than `cap` times, draw again (with rerolls). `!` adds
    /// each new face as a die of its own; `!!` and `!p` add it into the same die. The next die
    /// starts only when the chain has stopped.
    @inline(__always)
    private static func generate<R: RollRecorder>(
        _ kernel: UnsafePointer<DiceKernel>, label: String, rng: inout RNG, recorder: inout R,
        emit: (Int64) throws(EngineError) -> Void
    ) throws(EngineError) {
        let column = kernel.pointee.column
        let cap = kernel.pointee.cap
        var rerolled: [Int64] = []
        for _ in 0..<kernel.pointee.count {
            if R.records { rerolled = [] }
            var face = drawWithRerolls(kernel, rng: &rng, rerolled: &rerolled, recorder: R.self)
            var depth = 0
            switch kernel.pointee.explosion {
            case .none:
                let value = kernel.pointee.clamp(face)
                if R.records { recorder.append(Roll.Die(label: label, column: column, faces: [face], rerolled: rerolled, value: value)) }
                try emit(value)
            case .separate:
                var fromExplosion = false
                while true {
                    let explodes = depth < cap && kernel.pointee.explodeOn.contains(face)
                    let value = kernel.pointee.clamp(face)
                    if R.records {
                        recorder.append(Roll.Die(label: label, column: column, faces: [face], rerolled: rerolled, value: value,
                                                 exploded: explodes, fromExplosion: fromExplosion))
                        rerolled = []
                    }
                    try emit(value)
                    guard explodes else { break }
                    depth += 1
                    fromExplosion = true
                    face = drawWithRerolls(kernel, rng: &rng, rerolled: &rerolled, recorder: R.self)
                }
            case .compound, .penetrate:
                let penalty: Int64 = kernel.pointee.explosion == .penetrate ? 1 : 0
                var total = kernel.pointee.clamp(face)
                var faces: [Int64] = []
                if R.records { faces.append(face) }
                while depth < cap && kernel.pointee.explodeOn.contains(face) {
                    face = drawWithRerolls(kernel, rng: &rng, rerolled: &rerolled, recorder: R.self)
                    depth += 1
                    total = try add(total, kernel.pointee.clamp(face) - penalty, column: column)
                    if R.records { faces.append(face) }
                }
                if R.records {
                    recorder.append(Roll.Die(label: label, column: column, faces: faces, rerolled: rerolled, value: total, exploded: depth > 0))
                }
                try emit(total)
            }
        }
    }

    /// The total of the kept window of a pool: its values, or its successes.
    @inline(__always)
    private static func keptTotal<R: RollRecorder>(
        _ values: UnsafeMutableBufferPointer<Int64>, _ kernel: UnsafePointer<DiceKernel>, base: Int, recorder: inout R
    ) throws(EngineError) -> Int64 {
        let (lo, hi) = kernel.pointee.keep.window(size: values.count)
        let column = kernel.pointee.column
        var total: Int64 = 0
        if R.records {
            // Rank by value, ties by position (the earlier die ranks lower), and mark the dropped.
            let order = values.indices.sorted { a, b in values[a] != values[b] ? values[a] < values[b] : a < b }
            for rank in order.indices where rank < lo || rank >= hi {
                recorder.update(base + order[rank]) { $0.kept = false }
            }
            for rank in lo..<hi {
                total = try add(total, kernel.pointee.contribution(values[order[rank]]), column: column)
            }
            return total
        }
        sortAscending(values)
        for rank in lo..<hi {
            total = try add(total, kernel.pointee.contribution(values[rank]), column: column)
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

    /// Sorts a pool ascending. Small pools, which dice usually make, go through branch-free
    /// compare-exchange passes (min/max compile to conditional moves: random dice would defeat a
    /// branch predictor); larger ones through the standard sort.
    @inline(__always)
    static func sortAscending(_ values: UnsafeMutableBufferPointer<Int64>) {
        let count = values.count
        if count > 16 {
            var all = values
            all.sort()
            return
        }
        guard count > 1, let base = values.baseAddress else { return }
        for pass in 0..<(count - 1) {
            for index in 0..<(count - 1 - pass) {
                let a = base[index]
                let b = base[index + 1]
                base[index] = Swift.min(a, b)
                base[index + 1] = Swift.max(a, b)
            }
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
        guard b != 0 else { throw EngineError(.invalid, "division by zero", at: TextLocation(column: column)) }
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
        EngineError(.invalid, "the result is too large for a 64-bit integer", at: column > 0 ? TextLocation(column: column) : nil)
    }
}
