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

@_cdecl("rfl_character_apply_for")
public func rfl_character_apply_for(_ ch: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ rounds: Int32) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let source = try text(id, "source_id")
        guard rounds > 0 else { throw EngineError(.misuse, "rounds is \(rounds); a duration is 1 round or more (rfl_character_apply applies with the source's own durations)") }
        try box.pointee.value.apply(source, duration: Int(rounds))
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

/// The C struct rfl_check_options, field for field.
struct CCheckOptions {
    var version: UInt32
    var advantage: Int32
    var tags: UnsafePointer<UnsafePointer<CChar>?>?
    var tagCount: Int
    var opponent: OpaquePointer?
    var opponentCheck: UnsafePointer<CChar>?
    var opponentAdvantage: Int32
}

let checkOptionsVersion: UInt32 = 1

@_cdecl("rfl_check_options_init")
public func rfl_check_options_init(_ options: UnsafeMutableRawPointer?, _ version: UInt32) -> Int32 {
    guarded { () throws(EngineError) in
        guard let options else { throw EngineError(.misuse, "options is NULL") }
        guard version == checkOptionsVersion else {
            throw EngineError(.misuse, "version is \(version); this library knows rfl_check_options version \(checkOptionsVersion)")
        }
        options.storeBytes(of: CCheckOptions(version: version, advantage: 0, tags: nil, tagCount: 0, opponent: nil, opponentCheck: nil, opponentAdvantage: 0),
                           as: CCheckOptions.self)
    }
}

/// A check's options read from C: NULL means the defaults.
struct CheckOptions {
    var advantage = 0
    var tags: Set<String> = []
    var opponent: CharacterSheet?
    var opponentCheck: String?
    var opponentAdvantage = 0

    init(_ pointer: UnsafeRawPointer?) throws(EngineError) {
        guard let pointer else { return }
        let c = pointer.loadUnaligned(as: CCheckOptions.self)
        guard c.version == checkOptionsVersion else {
            throw EngineError(.misuse, "options->version is \(c.version); this library knows version \(checkOptionsVersion) (use rfl_check_options_init or RFL_CHECK_OPTIONS_INIT)")
        }
        advantage = Int(c.advantage)
        guard c.tagCount >= 0, c.tagCount <= 1024 else { throw EngineError(.misuse, "options->tag_count is \(c.tagCount); at most 1024 tags") }
        if c.tagCount > 0 {
            guard let list = c.tags else { throw EngineError(.misuse, "options->tags is NULL with tag_count \(c.tagCount)") }
            for index in 0..<c.tagCount { tags.insert(try text(list[index], "options->tags[\(index)]")) }
        }
        if c.opponent != nil {
            opponent = try Handles.open(c.opponent, CharacterHandle.self, "options->opponent").pointee.value
            opponentCheck = try c.opponentCheck.map { (pointer) throws(EngineError) in try text(pointer, "options->opponent_check_id") }
            opponentAdvantage = Int(c.opponentAdvantage)
        } else if c.opponentCheck != nil || c.opponentAdvantage != 0 {
            throw EngineError(.misuse, "options->opponent_check_id and opponent_advantage need options->opponent")
        }
    }
}

extension CharacterSheet {
    /// A check with C options: against `dc`, or against the options' opponent.
    func check(_ id: String, dc: Int64, _ options: CheckOptions, using rng: inout RNG) throws(EngineError) -> CheckResult {
        if let opponent = options.opponent {
            return try check(id, against: opponent, opposingCheck: options.opponentCheck, advantage: options.advantage,
                             opposingAdvantage: options.opponentAdvantage, tags: options.tags, using: &rng)
        }
        return try check(id, dc: dc, advantage: options.advantage, tags: options.tags, using: &rng)
    }
}

@_cdecl("rfl_check_ex")
public func rfl_check_ex(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ optionsPointer: UnsafeRawPointer?,
                         _ rng: OpaquePointer?, _ total: UnsafeMutablePointer<Int64>?, _ outcome: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let totalTarget = try output(total, "total")
        let outcomeTarget = try output(outcome, "outcome")
        let id = try text(check, "check_id")
        let options = try CheckOptions(optionsPointer)
        var random = generator.pointee.value
        defer { generator.pointee.value = random }
        let result: CheckOutcome
        if options.opponent == nil {
            result = try box.pointee.value.outcomeInPlace(id, dc: dc, advantage: options.advantage, tags: options.tags, using: &random)
        } else {
            result = try box.pointee.value.check(id, dc: dc, options, using: &random).outcome
        }
        totalTarget.pointee = result.total
        outcomeTarget.pointee = Int32(truncatingIfNeeded: result.band)
    }
}

@_cdecl("rfl_check_ex_json")
public func rfl_check_ex_json(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ optionsPointer: UnsafeRawPointer?,
                              _ rng: OpaquePointer?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(ch, CharacterHandle.self, "ch")
        let generator = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(json, "json")
        let id = try text(check, "check_id")
        let options = try CheckOptions(optionsPointer)
        let result = try box.pointee.value.check(id, dc: dc, options, using: &generator.pointee.value)
        try handOut(result.json, to: target)
    }
}

@_cdecl("rfl_check_ex_odds_json")
public func rfl_check_ex_odds_json(_ ch: OpaquePointer?, _ check: UnsafePointer<CChar>?, _ dc: Int64, _ optionsPointer: UnsafeRawPointer?,
                                   _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let sheet = try Handles.open(ch, CharacterHandle.self, "ch").pointee.value
        let target = try output(json, "json")
        let id = try text(check, "check_id")
        let options = try CheckOptions(optionsPointer)
        let odds: CheckOdds
        if let opponent = options.opponent {
            odds = try sheet.checkOdds(id, against: opponent, opposingCheck: options.opponentCheck, advantage: options.advantage,
                                       opposingAdvantage: options.opponentAdvantage, tags: options.tags)
        } else {
            odds = try sheet.checkOdds(id, dc: dc, advantage: options.advantage, tags: options.tags)
        }
        try handOut(odds.json, to: target)
    }
}

@_cdecl("rfl_character_free")
public func rfl_character_free(_ ch: OpaquePointer?) {
    Handles.free(ch, CharacterHandle.self)
}

extension CharacterSheet {
    /// `checkOutcome`, reached through `inout` so that a sheet in a handle is not copied.
    @inline(__always)
    mutating func outcomeInPlace(_ check: String, dc: Int64, advantage: Int, tags: Set<String> = [], using rng: inout RNG) throws(EngineError) -> CheckOutcome {
        try checkOutcome(check, dc: dc, advantage: advantage, tags: tags, using: &rng)
    }
}
