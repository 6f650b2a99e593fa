/// The flattened, postfix form of an expression that a roll executes on a small stack: no tree
/// walk, no allocation for expressions without a trace.
struct Program: Sendable {
    enum Instruction: Sendable {
        case constant(Int64)
        case stat(Int)
        /// A dice term with fixed count and sides (index into `terms`).
        case dice(Int)
        /// A dice term whose count and/or sides come from the stack (sides on top).
        case dynamicDice(Int)
        case negate
        case add, subtract, multiply
        case divide(Rounding)
        case abs
        case minimum(Int)
        case maximum(Int)
        /// Marks where a group item's dice start in the trace.
        case mark
        /// Pops a group's item values (index into `groups`).
        case group(Int)
    }

    /// Shortcuts for the commonest shapes, which skip the stack machine.
    enum Shortcut: Sendable {
        case none
        case constant(Int64)
        /// `NdM + k` with no modifiers on the dice.
        case plainDice(count: Int, sides: UInt64, offset: Int64)
        /// One dice term with modifiers, plus a constant.
        case dice(term: Int, offset: Int64)
    }

    var instructions: [Instruction] = []
    /// The column each instruction reports its runtime errors at.
    var columns: [Int] = []
    var terms: [DiceTerm] = []
    /// For each term with fixed count and sides, its plain-data form and its label.
    var kernels: [DiceKernel] = []
    var labels: [String] = []
    var groups: [Group] = []
    var maxStack = 0
    var shortcut: Shortcut = .none
    /// Dice that dynamic terms may still start, after the fixed ones.
    var dynamicDiceBudget = 0
    var hasDynamicDice = false

    init(_ syntax: Syntax, fixedDice: Int, limits: Limits) throws(EngineError) {
        instructions.reserveCapacity(8)
        columns.reserveCapacity(8)
        var depth = 0
        emit(syntax, depth: &depth)
        kernels.reserveCapacity(terms.count)
        labels.reserveCapacity(terms.count)
        for index in terms.indices {
            if let resolved = terms[index].resolved {
                kernels.append(try DiceKernel(resolved))
                labels.append(resolved.label)
            } else {
                kernels.append(try DiceKernel(ResolvedDice.placeholder))
                labels.append("")
            }
        }
        dynamicDiceBudget = limits.maxDice - fixedDice
        shortcut = Program.shortcut(for: syntax, terms: terms)
    }

    private mutating func append(_ instruction: Instruction, column: Int, depth: inout Int, pops: Int, pushes: Int) {
        instructions.append(instruction)
        columns.append(column)
        depth += pushes - pops
        maxStack = max(maxStack, depth)
    }

    private mutating func emit(_ syntax: Syntax, depth: inout Int) {
        switch syntax {
        case .number(let value):
            append(.constant(value), column: 0, depth: &depth, pops: 0, pushes: 1)
        case .stat(_, let slot, let column):
            append(.stat(slot), column: column, depth: &depth, pops: 0, pushes: 1)
        case .dice(let term):
            let index = terms.count
            terms.append(term)
            if term.resolved != nil {
                append(.dice(index), column: term.column, depth: &depth, pops: 0, pushes: 1)
            } else {
                hasDynamicDice = true
                var pops = 0
                if case .dynamic(let count) = term.count {
                    emit(count, depth: &depth)
                    pops += 1
                }
                if case .dynamic(let sides) = term.sides {
                    emit(sides, depth: &depth)
                    pops += 1
                }
                append(.dynamicDice(index), column: term.column, depth: &depth, pops: pops, pushes: 1)
            }
        case .negate(let inner, let column):
            emit(inner, depth: &depth)
            append(.negate, column: column, depth: &depth, pops: 1, pushes: 1)
        case .binary(let op, let left, let right, let column):
            emit(left, depth: &depth)
            emit(right, depth: &depth)
            let instruction: Instruction = switch op {
            case .add: .add
            case .subtract: .subtract
            case .multiply: .multiply
            case .divide(let rounding): .divide(rounding)
            }
            append(instruction, column: column, depth: &depth, pops: 2, pushes: 1)
        case .abs(let inner, let column):
            emit(inner, depth: &depth)
            append(.abs, column: column, depth: &depth, pops: 1, pushes: 1)
        case .extremum(let isMax, let arguments):
            for argument in arguments { emit(argument, depth: &depth) }
            append(isMax ? .maximum(arguments.count) : .minimum(arguments.count), column: 0, depth: &depth, pops: arguments.count, pushes: 1)
        case .group(let group):
            let index = groups.count
            groups.append(group)
            for item in group.items {
                append(.mark, column: group.column, depth: &depth, pops: 0, pushes: 0)
                emit(item, depth: &depth)
            }
            append(.group(index), column: group.column, depth: &depth, pops: group.items.count, pushes: 1)
        }
    }

    private static func shortcut(for syntax: Syntax, terms: [DiceTerm]) -> Shortcut {
        func constant(_ syntax: Syntax) -> Int64? {
            switch syntax {
            case .number(let value): value
            case .negate(.number(let value), _): value == Int64.min ? nil : -value
            default: nil
            }
        }
        var diceSyntax = syntax
        var offset: Int64 = 0
        if let value = constant(syntax) { return .constant(value) }
        if case .binary(let op, let left, let right, _) = syntax, let value = constant(right) {
            switch op {
            case .add: offset = value
            case .subtract where value != Int64.min: offset = -value
            default: return .none
            }
            diceSyntax = left
        }
        guard case .dice(let term) = diceSyntax, let resolved = term.resolved, terms.count == 1 else { return .none }
        if resolved.isPlain && !resolved.fudge && !Int64(resolved.count).multipliedReportingOverflow(by: resolved.high).overflow {
            return .plainDice(count: resolved.count, sides: UInt64(resolved.high), offset: offset)
        }
        return .dice(term: 0, offset: offset)
    }
}
