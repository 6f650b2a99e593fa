import Mechanics

@_cdecl("rfl_expr_compile")
public func rfl_expr_compile(_ source: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    rfl_expr_compile_with_limits(source, nil, out)
}

@_cdecl("rfl_expr_compile_with_limits")
public func rfl_expr_compile_with_limits(_ source: UnsafePointer<CChar>?, _ limitsPointer: UnsafeRawPointer?,
                                         _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let target = try output(out, "out")
        let expression = try DiceExpression(try text(source, "source"), limits: try limits(from: limitsPointer))
        target.pointee = Handles.make(ExprHandle.self, Unmanaged.passRetained(CompiledEntry(expression)))
    }
}

@_cdecl("rfl_expr_roll")
public func rfl_expr_roll(_ expr: OpaquePointer?, _ rng: OpaquePointer?, _ total: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(total, "total")
        // A +0 reference: the handle keeps the expression alive, so no retain is needed.
        do {
            target.pointee = try expression.pointee.value._withUnsafeGuaranteedRef { entry in
                try entry.expression.roll(using: &generator.pointee.value)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.error, "\(error)")
        }
    }
}

@_cdecl("rfl_expr_roll_with_stats")
public func rfl_expr_roll_with_stats(_ expr: OpaquePointer?, _ values: UnsafePointer<Int64>?, _ count: Int,
                                     _ rng: OpaquePointer?, _ total: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(total, "total")
        let list = try statValues(values, count)
        target.pointee = try expression.pointee.value.takeUnretainedValue().expression.roll(using: &generator.pointee.value, statValues: list)
    }
}

@_cdecl("rfl_expr_roll_json")
public func rfl_expr_roll_json(_ expr: OpaquePointer?, _ rng: OpaquePointer?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(json, "json")
        try handOut(try expression.pointee.value.takeUnretainedValue().expression.rollDetailed(using: &generator.pointee.value).json, to: target)
    }
}

@_cdecl("rfl_expr_odds_json")
public func rfl_expr_odds_json(_ expr: OpaquePointer?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue().expression
        let target = try output(json, "json")
        try handOut(try expression.odds().json(expression: expression.source), to: target)
    }
}

@_cdecl("rfl_expr_roll_json_with_stats")
public func rfl_expr_roll_json_with_stats(_ expr: OpaquePointer?, _ values: UnsafePointer<Int64>?, _ count: Int, _ rng: OpaquePointer?,
                                          _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(json, "json")
        let list = try statValues(values, count)
        try handOut(try expression.pointee.value.takeUnretainedValue().expression.rollDetailed(using: &generator.pointee.value, statValues: list).json,
                    to: target)
    }
}

@_cdecl("rfl_expr_odds_json_with_stats")
public func rfl_expr_odds_json_with_stats(_ expr: OpaquePointer?, _ values: UnsafePointer<Int64>?, _ count: Int,
                                          _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue().expression
        let target = try output(json, "json")
        let list = try statValues(values, count)
        try handOut(try expression.odds(statValues: list).json(expression: expression.source), to: target)
    }
}

/// The values of an expression's stat references, in the order rfl_expr_stat_name gives them.
private func statValues(_ values: UnsafePointer<Int64>?, _ count: Int) throws(EngineError) -> [Int64] {
    guard count >= 0 else { throw EngineError(.misuse, "count is negative") }
    guard count == 0 || values != nil else { throw EngineError(.misuse, "values is NULL with count \(count)") }
    return values.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
}

@_cdecl("rfl_expr_odds_at_least")
public func rfl_expr_odds_at_least(_ expr: OpaquePointer?, _ value: Int64, _ probability: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue().expression
        let target = try output(probability, "probability")
        target.pointee = try expression.odds().probability(atLeast: value)
    }
}

@_cdecl("rfl_expr_stat_count")
public func rfl_expr_stat_count(_ expr: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue().expression
        try output(count, "count").pointee = expression.statReferences.count
    }
}

@_cdecl("rfl_expr_stat_name")
public func rfl_expr_stat_name(_ expr: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let expression = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue().expression
        let target = try output(name, "name")
        guard index >= 0, index < expression.statReferences.count else {
            throw EngineError(.misuse, "index \(index) is out of range: the expression has \(expression.statReferences.count) stat references")
        }
        let entry = try Handles.open(expr, ExprHandle.self, "expr").pointee.value.takeUnretainedValue()
        guard index < entry.statNames.count else { throw EngineError(.noMemory, "out of memory for stat names") }
        target.pointee = UnsafePointer(entry.statNames[index])
    }
}

@_cdecl("rfl_expr_free")
public func rfl_expr_free(_ expr: OpaquePointer?) {
    Handles.free(expr, ExprHandle.self)
}
