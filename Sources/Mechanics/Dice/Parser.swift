/// Recursive-descent parser of the dice language (grammar in docs/dice.md). Works on UTF-8 bytes;
/// every error names the column and what was expected there.
struct Parser {
    private let bytes: [UInt8]
    private var position = 0
    private let limits: Limits
    private var depth = 0
    /// Dice started by terms with a fixed count, checked against `limits.maxDice`.
    private(set) var fixedDice = 0
    /// Distinct `@id` references in order of first appearance.
    private(set) var statReferences: [String] = []
    /// Every `@id` occurrence: the id and the UTF-8 byte range of the id (after the `@`).
    private(set) var referenceSpans: [(id: String, range: Range<Int>)] = []

    /// True when every byte is ASCII, so a column is the byte offset plus one.
    private let isASCII: Bool

    init(_ source: String, limits: Limits) {
        self.bytes = Array(source.utf8)
        self.limits = limits
        self.isASCII = bytes.allSatisfy { $0 < 0x80 }
    }

    mutating func parse() throws(EngineError) -> Syntax {
        guard bytes.count <= limits.maxExpressionLength else {
            throw EngineError(.limit, "expression is \(bytes.count) bytes long; the limit maxExpressionLength is \(limits.maxExpressionLength)")
        }
        skipSpace()
        if atEnd {
            throw error("empty expression: expected a number, a die such as 'd20', '(', '{', '@stat' or a function")
        }
        let syntax = try parseSum()
        skipSpace()
        if !atEnd {
            if peek() == UInt8(ascii: ")") { throw error("unbalanced ')': no '(' opens it") }
            if peek() == UInt8(ascii: "}") { throw error("unbalanced '}': no '{' opens it") }
            throw error("expected an operator (+ - * /) or the end of the expression, found \(found())")
        }
        return syntax
    }

    // MARK: - Grammar

    private mutating func parseSum() throws(EngineError) -> Syntax {
        var left = try parseProduct()
        while true {
            skipSpace()
            let column = currentColumn
            if eat("+") {
                left = .binary(.add, left, try parseProduct(), column: column)
            } else if eat("-") {
                left = .binary(.subtract, left, try parseProduct(), column: column)
            } else {
                return left
            }
        }
    }

    private mutating func parseProduct() throws(EngineError) -> Syntax {
        var left = try parseUnary()
        while true {
            skipSpace()
            let column = currentColumn
            if eat("*") {
                left = .binary(.multiply, left, try parseUnary(), column: column)
            } else if eat("/") {
                left = .binary(.divide(.floor), left, try parseUnary(), column: column)
            } else {
                return left
            }
        }
    }

    private mutating func parseUnary() throws(EngineError) -> Syntax {
        skipSpace()
        let column = currentColumn
        if eat("-") {
            try enter()
            defer { depth -= 1 }
            return .negate(try parseUnary(), column: column)
        }
        if eat("+") {
            try enter()
            defer { depth -= 1 }
            return try parseUnary()
        }
        return try parseAtom()
    }

    private mutating func parseAtom() throws(EngineError) -> Syntax {
        skipSpace()
        let start = position
        let column = currentColumn
        guard let byte = peek() else {
            throw error("unexpected end of expression: expected a number, a die such as 'd20', '(', '{', '@stat' or a function")
        }
        if isDigit(byte) {
            let value = try parseNumber()
            skipSpace()
            if isDiceLetter(peek()) {
                guard value <= Int64(limits.maxDice) else {
                    throw EngineError(.limit, "\(value) dice in one term; the limit maxDice is \(limits.maxDice)", at: location(start))
                }
                return try parseDice(count: .fixed(Int(value)), column: column)
            }
            return .number(value)
        }
        if isDiceLetter(byte) {
            return try parseDice(count: .fixed(1), column: column)
        }
        if byte == UInt8(ascii: "(") {
            position += 1
            try enter()
            let inner = try parseSum()
            depth -= 1
            skipSpace()
            guard eat(")") else { throw error("expected ')' to close the '(' at column \(column), found \(found())") }
            skipSpace()
            if isDiceLetter(peek()) {
                return try parseDice(count: .dynamic(inner), column: column)
            }
            return inner
        }
        if byte == UInt8(ascii: "@") {
            position += 1
            return try parseStat(column: column)
        }
        if byte == UInt8(ascii: "{") {
            position += 1
            return try parseGroup(column: column)
        }
        if isLetter(byte) {
            return try parseFunction(column: column)
        }
        throw error("expected a number, a die such as 'd20', '(', '{', '@stat' or a function, found \(found())")
    }

    private mutating func parseStat(column: Int) throws(EngineError) -> Syntax {
        if eat("{") {
            // `@{id}`: any id, including one with a hyphen before a digit (`@{level-2}`).
            let start = position
            while let byte = peek(), isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-") {
                position += 1
            }
            guard position > start else { throw error("expected a stat id after '@{', found \(found())") }
            let end = position
            guard eat("}") else { throw error("expected '}' to close '@{', found \(found())") }
            return reference(start..<end, column: column)
        }
        let start = position
        while let byte = peek() {
            if isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") {
                position += 1
            } else if byte == UInt8(ascii: "-"), let next = peek(1), isLetter(next) || next == UInt8(ascii: "_") {
                position += 1
            } else {
                break
            }
        }
        guard position > start else { throw error("expected a stat id after '@', found \(found())") }
        return reference(start..<position, column: column)
    }

    private mutating func reference(_ range: Range<Int>, column: Int) -> Syntax {
        let id = String(decoding: bytes[range], as: UTF8.self)
        referenceSpans.append((id, range))
        let slot: Int
        if let existing = statReferences.firstIndex(of: id) {
            slot = existing
        } else {
            slot = statReferences.count
            statReferences.append(id)
        }
        return .stat(id: id, slot: slot, column: column)
    }

    private mutating func parseFunction(column: Int) throws(EngineError) -> Syntax {
        let start = position
        while let byte = peek(), isLetter(byte) { position += 1 }
        let name = String(decoding: bytes[start..<position], as: UTF8.self).lowercased()
        let known = ["floor", "ceil", "round", "abs", "min", "max"]
        guard known.contains(name) else {
            position = start
            throw error("unknown function '\(name)': expected floor, ceil, round, abs, min or max")
        }
        skipSpace()
        guard eat("(") else { throw error("expected '(' after '\(name)', found \(found())") }
        try enter()
        var arguments = [try parseSum()]
        skipSpace()
        while eat(",") {
            arguments.append(try parseSum())
            skipSpace()
        }
        depth -= 1
        guard eat(")") else { throw error("expected ',' or ')' in the arguments of '\(name)', found \(found())") }
        switch name {
        case "min", "max":
            return .extremum(isMax: name == "max", arguments)
        default:
            guard arguments.count == 1 else {
                throw EngineError(.syntax, "'\(name)' takes one argument, given \(arguments.count)", at: location(column: column))
            }
            let argument = arguments[0]
            switch name {
            case "abs":
                return .abs(argument, column: column)
            case "ceil", "round":
                // `/` floors; ceil(a/b) and round(a/b) give the division its own rounding.
                if case .binary(.divide, let a, let b, let divideColumn) = argument {
                    return .binary(.divide(name == "ceil" ? .ceil : .round), a, b, column: divideColumn)
                }
                return argument
            default:
                return argument
            }
        }
    }

    private mutating func parseGroup(column: Int) throws(EngineError) -> Syntax {
        try enter()
        var items = [try parseSum()]
        skipSpace()
        while eat(",") {
            items.append(try parseSum())
            guard items.count <= limits.maxGroupSize else {
                throw error("a group of more than \(limits.maxGroupSize) items; the limit maxGroupSize is \(limits.maxGroupSize)", code: .limit)
            }
            skipSpace()
        }
        depth -= 1
        guard eat("}") else { throw error("expected ',' or '}' in the group opened at column \(column), found \(found())") }
        var keep: [KeepRule] = []
        var success: ComparePoint?
        var failure: ComparePoint?
        var double: FaceRule?
        var scoringColumn: Int?
        while true {
            skipSpace()
            let modifierStart = position
            if let rule = try parseKeepRule() {
                keep.append(rule)
            } else if let point = try parseComparePoint(required: false) {
                guard success == nil else { throw error("a second success compare point on one group", at: modifierStart) }
                success = point
            } else if eatKeyword("f") {
                guard failure == nil else { throw error("'f' given twice", at: modifierStart) }
                scoringColumn = scoringColumn ?? self.column(of: modifierStart)
                failure = try requirePoint(after: "f")
            } else if eatKeyword("dbl") {
                guard double == nil else { throw error("'dbl' given twice", at: modifierStart) }
                scoringColumn = scoringColumn ?? self.column(of: modifierStart)
                guard let point = try parseComparePoint(required: false) else {
                    throw error("'dbl' on a group needs a compare point, as in 'dbl>=20', found \(found())")
                }
                double = FaceRule(points: [point])
            } else if let byte = peek(), byte == UInt8(ascii: "!") || byte == UInt8(ascii: "r") || byte == UInt8(ascii: "m") || byte == UInt8(ascii: "c") {
                throw error("only keep/drop (kh kl dh dl), success counting, 'f' and 'dbl' apply to a group, found \(found())")
            } else {
                break
            }
        }
        let scoring = try makeScoring(success: success, failure: failure, double: double, column: scoringColumn ?? column)
        return .group(Group(items: items, keep: keep, scoring: scoring, double: double?.resolved(low: 0, high: 0), column: column))
    }

    private mutating func parseDice(count: DiceTerm.Count, column: Int) throws(EngineError) -> Syntax {
        position += 1  // the 'd'
        skipSpace()
        let sidesStart = position
        let sides: DiceTerm.Sides
        guard let byte = peek() else { throw error("expected the number of sides, '%' or 'F' after 'd'") }
        if isDigit(byte) {
            let value = try parseNumber()
            guard value >= 1 else { throw error("a die needs at least 1 side", at: sidesStart, code: .invalid) }
            guard value <= Int64(limits.maxSides) else {
                throw error("d\(value) has more sides than the limit maxSides, \(limits.maxSides)", at: sidesStart, code: .limit)
            }
            sides = .fixed(Int(value))
        } else if byte == UInt8(ascii: "%") {
            position += 1
            sides = .percent
        } else if byte == UInt8(ascii: "F") || byte == UInt8(ascii: "f") {
            position += 1
            sides = .fudge
        } else if byte == UInt8(ascii: "(") {
            position += 1
            try enter()
            let inner = try parseSum()
            depth -= 1
            skipSpace()
            guard eat(")") else { throw error("expected ')' to close the sides opened at column \(location(sidesStart).column), found \(found())") }
            sides = .dynamic(inner)
        } else {
            throw error("expected the number of sides, '%' or 'F' after 'd', found \(found())")
        }
        let modifiers = try parseDiceModifiers()
        if case .fixed(let n) = count {
            fixedDice += n
            guard fixedDice <= limits.maxDice else {
                throw EngineError(.limit, "the expression rolls \(fixedDice) dice; the limit maxDice is \(limits.maxDice)", at: location(column: column))
            }
        }
        let term = try DiceTerm.make(column: column, count: count, sides: sides, modifiers: modifiers, limits: limits)
        return .dice(term)
    }

    private mutating func parseDiceModifiers() throws(EngineError) -> DiceModifiers {
        var modifiers = DiceModifiers()
        var success: ComparePoint?
        var failure: ComparePoint?
        var double: FaceRule?
        var rerollPoints: [ComparePoint] = []
        var rerollDefault = false
        var rerollKind: Bool?  // true: `ro`
        var scoringColumn: Int?
        while true {
            skipSpace()
            let start = position
            if let rule = try parseKeepRule() {
                modifiers.keep.append(rule)
            } else if eat("!") {
                guard modifiers.explosion == nil else { throw error("a second explosion on one term", at: start) }
                if eat("!") {
                    modifiers.explosion = .compound
                } else if eat("p") || eat("P") {
                    modifiers.explosion = .penetrate
                } else {
                    modifiers.explosion = .separate
                }
                if let point = try parseComparePoint(required: false) {
                    modifiers.explodeOn = FaceRule(points: [point])
                }
            } else if let once = eatKeyword("ro") ? true : (eatKeyword("r") ? false : nil) {
                if let kind = rerollKind, kind != once {
                    throw error("'r' and 'ro' cannot be mixed on one term", at: start)
                }
                rerollKind = once
                if let point = try parseComparePoint(required: false) {
                    rerollPoints.append(point)
                } else {
                    rerollDefault = true
                }
            } else if eatKeyword("cap") {
                guard modifiers.cap == nil else { throw error("'cap' given twice", at: start) }
                let value = try parseUnsigned(after: "cap")
                guard value <= Int64(limits.maxExplosions) else {
                    throw error("cap \(value) is above the limit maxExplosions, \(limits.maxExplosions)", at: start, code: .limit)
                }
                modifiers.cap = Int(value)
            } else if eatKeyword("min") {
                guard modifiers.clampMin == nil else { throw error("'min' given twice", at: start) }
                modifiers.clampMin = try parseSigned(after: "min")
            } else if eatKeyword("max") {
                guard modifiers.clampMax == nil else { throw error("'max' given twice", at: start) }
                modifiers.clampMax = try parseSigned(after: "max")
            } else if eatKeyword("dbl") {
                guard double == nil else { throw error("'dbl' given twice", at: start) }
                scoringColumn = scoringColumn ?? self.column(of: start)
                if let point = try parseComparePoint(required: false) {
                    double = FaceRule(points: [point])
                } else {
                    double = .highestOrMore
                }
            } else if eatKeyword("f") {
                guard failure == nil else { throw error("'f' given twice", at: start) }
                scoringColumn = scoringColumn ?? self.column(of: start)
                failure = try requirePoint(after: "f")
            } else if let point = try parseComparePoint(required: false, bareNumber: false) {
                guard success == nil else { throw error("a second success compare point on one term", at: start) }
                success = point
            } else if let byte = peek(), byte == UInt8(ascii: "d") || byte == UInt8(ascii: "D") {
                throw error("expected a modifier or an operator after the dice, found \(found()); 'dh' and 'dl' drop dice, and two terms need an operator between them")
            } else {
                break
            }
        }
        if let once = rerollKind {
            modifiers.reroll = FaceRule(points: rerollPoints, lowestFace: rerollDefault)
            modifiers.rerollOnce = once
        }
        if modifiers.cap != nil && modifiers.explosion == nil {
            throw error("'cap' limits explosions, but this term does not explode ('!', '!!' or '!p')", at: position)
        }
        modifiers.scoring = try makeScoring(success: success, failure: failure, double: double, column: scoringColumn ?? currentColumn)
        return modifiers
    }

    private func makeScoring(success: ComparePoint?, failure: ComparePoint?, double: FaceRule?, column: Int) throws(EngineError) -> Scoring? {
        guard let success else {
            if failure != nil { throw EngineError(.invalid, "'f' counts failures, which needs a success compare point first, as in '>=7f1'", at: location(column: column)) }
            if double != nil { throw EngineError(.invalid, "'dbl' doubles successes, which needs a success compare point first, as in '>=7dbl10'", at: location(column: column)) }
            return nil
        }
        return Scoring(success: success, failure: failure, double: double)
    }

    private mutating func parseKeepRule() throws(EngineError) -> KeepRule? {
        let start = position
        let kind: KeepRule.Kind
        if eatKeyword("kh") {
            kind = .keepHighest
        } else if eatKeyword("kl") {
            kind = .keepLowest
        } else if eatKeyword("dh") {
            kind = .dropHighest
        } else if eatKeyword("dl") {
            kind = .dropLowest
        } else if eatKeyword("k") {
            kind = .keepHighest
        } else {
            return nil
        }
        skipSpace()
        var count = 1
        if let byte = peek(), isDigit(byte) {
            let value = try parseNumber()
            guard value <= Int64(Int32.max) else { throw error("keep/drop count \(value) is too large", at: start, code: .limit) }
            count = Int(value)
        }
        return KeepRule(kind: kind, count: count)
    }

    /// `>=7`, `<2`, `=6`, or (when `bareNumber`) `6` meaning `=6`. Returns nil when none starts here
    /// and it is not `required`.
    private mutating func parseComparePoint(required: Bool, bareNumber: Bool = true) throws(EngineError) -> ComparePoint? {
        skipSpace()
        let op: ComparePoint.Operator
        if eat(">=") {
            op = .greaterOrEqual
        } else if eat("<=") {
            op = .lessOrEqual
        } else if eat(">") {
            op = .greater
        } else if eat("<") {
            op = .less
        } else if eat("=") {
            op = .equal
        } else if bareNumber, let byte = peek(), isDigit(byte) {
            return ComparePoint(.equal, try parseNumber())
        } else {
            if required { throw error("expected a compare point such as '>=7', '<2' or '6', found \(found())") }
            return nil
        }
        return ComparePoint(op, try parseSigned(after: op.rawValue))
    }

    private mutating func requirePoint(after keyword: String) throws(EngineError) -> ComparePoint {
        guard let point = try parseComparePoint(required: false) else {
            throw error("expected a compare point after '\(keyword)', such as '\(keyword)<=1', found \(found())")
        }
        return point
    }

    private mutating func parseUnsigned(after keyword: String) throws(EngineError) -> Int64 {
        skipSpace()
        guard let byte = peek(), isDigit(byte) else { throw error("expected a number after '\(keyword)', found \(found())") }
        return try parseNumber()
    }

    private mutating func parseSigned(after keyword: String) throws(EngineError) -> Int64 {
        skipSpace()
        var negative = false
        if eat("-") {
            negative = true
        } else {
            _ = eat("+")
        }
        skipSpace()
        guard let byte = peek(), isDigit(byte) else { throw error("expected a number after '\(keyword)', found \(found())") }
        let value = try parseNumber()
        return negative ? -value : value
    }

    private mutating func parseNumber() throws(EngineError) -> Int64 {
        let start = position
        var value: Int64 = 0
        while let byte = peek(), isDigit(byte) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 {
                while let next = peek(), isDigit(next) { position += 1 }
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                throw error("number \(text) is too large; the largest is \(Int64.max)", at: start, code: .invalid)
            }
            value = sum
            position += 1
        }
        return value
    }

    // MARK: - Characters

    private var atEnd: Bool { position >= bytes.count }

    private func peek(_ offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || (0x09...0x0D).contains(byte) { position += 1 }
    }

    private mutating func eat(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = text.utf8Start
        for index in 0..<count where bytes[position + index] != pointer[index] { return false }
        position += count
        return true
    }

    /// Eats a lowercase keyword written in any case. Callers try longer keywords first (`kh`
    /// before `k`, `ro` before `r`).
    private mutating func eatKeyword(_ keyword: StaticString) -> Bool {
        let count = keyword.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = keyword.utf8Start
        for index in 0..<count where bytes[position + index] | 0x20 != pointer[index] { return false }
        position += count
        return true
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private func isDiceLetter(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: "d") || byte == UInt8(ascii: "D") }

    private mutating func enter() throws(EngineError) {
        depth += 1
        guard depth <= limits.maxNesting else {
            throw error("nesting deeper than \(limits.maxNesting); the limit maxNesting is \(limits.maxNesting)", code: .limit)
        }
    }

    /// What stands at the current position, for messages: `'x'` or "the end".
    private func found() -> String {
        guard position < bytes.count else { return "the end of the expression" }
        let byte = bytes[position]
        if byte < 0x20 || byte == 0x7F {
            let hex = String(byte, radix: 16, uppercase: true)
            return "the control character U+\(String(repeating: "0", count: 4 - hex.count))\(hex)"
        }
        var end = position + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'\(String(decoding: bytes[position..<end], as: UTF8.self))'"
    }

    private var currentColumn: Int { column(of: position) }

    /// 1-based column in characters (UTF-8 continuation bytes do not count).
    private func column(of offset: Int) -> Int {
        if isASCII { return min(offset, bytes.count) + 1 }
        var column = 1
        for index in 0..<min(offset, bytes.count) where bytes[index] & 0xC0 != 0x80 { column += 1 }
        return column
    }

    private func location(_ offset: Int) -> TextLocation { TextLocation(column: column(of: offset)) }
    private func location(column: Int) -> TextLocation { TextLocation(column: column) }

    private func error(_ message: String, at offset: Int? = nil, code: EngineError.Code = .syntax) -> EngineError {
        EngineError(code, message, at: location(offset ?? position))
    }
}
