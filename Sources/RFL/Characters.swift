import ContentPacks
import Mechanics

@_cdecl("rfl_character_new")
public func rfl_character_new(_ ruleset: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let loaded = try Handles.open(ruleset, RulesetHandle.self, "ruleset").pointee.value
        try output(out, "out").pointee = Handles.make(CharacterHandle.self, CharacterSheet(ruleset: loaded.ruleset))
    }
}

@_cdecl("rfl_character_clone")
public func rfl_character_clone(_ ch: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let sheet = try Handles.open(ch, CharacterHandle.self, "ch").pointee.value
        try output(out, "out").pointee = Handles.make(CharacterHandle.self, sheet)
    }
}

@_cdecl("rfl_character_set")
public func rfl_character_set(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ value: Int64) -> Int32 {
    guarded { () throws(EngineError) in
        try Handles.open(ch, CharacterHandle.self, "ch").pointee.value.set(try text(id, "stat_id"), to: value)
    }
}

@_cdecl("rfl_character_get")
public func rfl_character_get(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let target = try output(value, "value")
        target.pointee = try box.pointee.value.value(try text(id, "id"))
    }
}

@_cdecl("rfl_character_apply")
public func rfl_character_apply(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(EngineError) in
        try Handles.open(ch, CharacterHandle.self, "ch").pointee.value.apply(try text(id, "source_id"))
    }
}

@_cdecl("rfl_character_remove")
public func rfl_character_remove(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(EngineError) in
        try Handles.open(ch, CharacterHandle.self, "ch").pointee.value.remove(try text(id, "source_id"))
    }
}

@_cdecl("rfl_character_advance")
public func rfl_character_advance(_ ch: OpaquePointer?, _ rounds: Int32) -> Int32 {
    guarded { () throws(EngineError) in
        try Handles.open(ch, CharacterHandle.self, "ch").pointee.value.advance(rounds: Int(rounds))
    }
}

@_cdecl("rfl_character_breakdown_json")
public func rfl_character_breakdown_json(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?,
                                         _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let target = try output(json, "json")
        try handOut(try box.pointee.value.breakdown(try text(id, "id")).json, to: target)
    }
}

@_cdecl("rfl_check")
public func rfl_check(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ advantage: Int32, _ rng: OpaquePointer?,
                      _ total: UnsafeMutablePointer<Int64>?, _ outcome: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let totalTarget = try output(total, "total")
        let outcomeTarget = try output(outcome, "outcome")
        let id = try text(check, "check_id")
        // Through an inout access the sheet is used in place; a plain read would copy it out of
        // the handle. The generator is copied in and out so the two accesses cannot overlap.
        var random = generator.pointee.value
        defer { generator.pointee.value = random }
        let result = try box.pointee.value.outcomeInPlace(id, dc: dc, advantage: Int(advantage), using: &random)
        totalTarget.pointee = result.total
        outcomeTarget.pointee = Int32(truncatingIfNeeded: result.band)
    }
}

@_cdecl("rfl_check_json")
public func rfl_check_json(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ advantage: Int32, _ rng: OpaquePointer?,
                           _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(json, "json")
        let result = try box.pointee.value.check(try text(check, "check_id"), dc: dc, advantage: Int(advantage), using: &generator.pointee.value)
        try handOut(result.json, to: target)
    }
}

@_cdecl("rfl_check_odds_json")
public func rfl_check_odds_json(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ advantage: Int32,
                                _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let target = try output(json, "json")
        try handOut(try box.pointee.value.checkOdds(try text(check, "check_id"), dc: dc, advantage: Int(advantage)).json, to: target)
    }
}

@_cdecl("rfl_character_free")
public func rfl_character_free(_ ch: OpaquePointer?) {
    Handles.free(ch, CharacterHandle.self)
}

extension CharacterSheet {
    /// `checkOutcome`, reached through `inout` so that a sheet in a handle is not copied.
    @inline(__always)
    mutating func outcomeInPlace(_ check: String, dc: Int64, advantage: Int, using rng: inout RNG) throws(EngineError) -> CheckOutcome {
        try checkOutcome(check, dc: dc, advantage: advantage, using: &rng)
    }
}
