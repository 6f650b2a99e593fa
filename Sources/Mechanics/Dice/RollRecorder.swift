/// Receives the dice of a roll as it is evaluated. The evaluator is generic over its recorder so
/// that one piece of code draws the dice for both a bare total and a traced roll: the two can
/// never consume the generator differently. `NoRecorder` compiles away entirely.
protocol RollRecorder {
    static var records: Bool { get }
    var count: Int { get }
    mutating func append(_ die: Roll.Die)
    mutating func update(_ index: Int, _ body: (inout Roll.Die) -> Void)
    mutating func pushMark()
    mutating func popMark() -> Int
}

struct NoRecorder: RollRecorder {
    static var records: Bool { false }
    var count: Int { 0 }
    @inline(__always) mutating func append(_ die: Roll.Die) {}
    @inline(__always) mutating func update(_ index: Int, _ body: (inout Roll.Die) -> Void) {}
    @inline(__always) mutating func pushMark() {}
    @inline(__always) mutating func popMark() -> Int { 0 }
}

struct TraceRecorder: RollRecorder {
    static var records: Bool { true }
    var dice: [Roll.Die] = []
    var marks: [Int] = []
    var count: Int { dice.count }
    mutating func append(_ die: Roll.Die) { dice.append(die) }
    mutating func update(_ index: Int, _ body: (inout Roll.Die) -> Void) { body(&dice[index]) }
    mutating func pushMark() { marks.append(dice.count) }
    mutating func popMark() -> Int { marks.popLast() ?? 0 }
}
