import Mechanics

@_cdecl("rfl_rng_new")
public func rfl_rng_new(_ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        try output(out, "out").pointee = Handles.make(RNGHandle.self, RNG(seed: seed))
    }
}

@_cdecl("rfl_rng_clone")
public func rfl_rng_clone(_ rng: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        try output(out, "out").pointee = Handles.make(RNGHandle.self, box.pointee.value)
    }
}

@_cdecl("rfl_rng_split")
public func rfl_rng_split(_ rng: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(out, "out")
        target.pointee = Handles.make(RNGHandle.self, box.pointee.value.split())
    }
}

@_cdecl("rfl_rng_jump")
public func rfl_rng_jump(_ rng: OpaquePointer?) -> Int32 {
    guarded { () throws(EngineError) in try Handles.open(rng, RNGHandle.self, "rng").pointee.value.jump() }
}

@_cdecl("rfl_rng_long_jump")
public func rfl_rng_long_jump(_ rng: OpaquePointer?) -> Int32 {
    guarded { () throws(EngineError) in try Handles.open(rng, RNGHandle.self, "rng").pointee.value.longJump() }
}

@_cdecl("rfl_rng_next")
public func rfl_rng_next(_ rng: OpaquePointer?) -> UInt64 {
    do {
        return try Handles.open(rng, RNGHandle.self, "rng").pointee.value.next()
    } catch {
        ErrorState.set(error)
        return 0
    }
}

@_cdecl("rfl_rng_uniform")
public func rfl_rng_uniform(_ rng: OpaquePointer?, _ bound: UInt64, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(out, "out")
        guard bound > 0 else { throw EngineError(.invalid, "bound is 0; a uniform integer needs a bound of 1 or more") }
        target.pointee = box.pointee.value.uniform(bound)
    }
}

@_cdecl("rfl_rng_die")
public func rfl_rng_die(_ rng: OpaquePointer?, _ sides: Int64, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        let target = try output(out, "out")
        guard sides >= 1, sides <= 1_000_000_000 else { throw EngineError(.invalid, "a die has 1 to 1000000000 sides, not \(sides)") }
        target.pointee = Int64(box.pointee.value.die(Int(sides)))
    }
}

@_cdecl("rfl_rng_get_state")
public func rfl_rng_get_state(_ rng: OpaquePointer?, _ state: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        let words = try output(state, "state")
        let saved = box.pointee.value.state
        words[0] = saved.s0
        words[1] = saved.s1
        words[2] = saved.s2
        words[3] = saved.s3
    }
}

@_cdecl("rfl_rng_set_state")
public func rfl_rng_set_state(_ rng: OpaquePointer?, _ state: UnsafePointer<UInt64>?) -> Int32 {
    guarded { () throws(EngineError) in
        let box = try Handles.open(rng, RNGHandle.self, "rng")
        guard let state else { throw EngineError(.misuse, "state is NULL") }
        guard let restored = RNG(state: RNG.State(s0: state[0], s1: state[1], s2: state[2], s3: state[3])) else {
            throw EngineError(.invalid, "the all-zero state is not a state the generator can be in")
        }
        box.pointee.value = restored
    }
}

@_cdecl("rfl_rng_free")
public func rfl_rng_free(_ rng: OpaquePointer?) {
    Handles.free(rng, RNGHandle.self)
}
