import ContentPacks
import Mechanics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a C handle points at: a tag that names the handle's type, then the Swift value. The
/// tag is read as plain memory before anything else, so a NULL, foreign or freed handle is
/// refused without touching reference counts.
struct Box<Value> {
    var tag: UInt64
    var value: Value
}

/// One kind of handle: its tag and its name for messages.
protocol HandleKind {
    associatedtype Value
    static var tag: UInt64 { get }
    static var name: String { get }
    /// Releases what the value holds beyond its own memory, when the handle is freed.
    static func dispose(_ value: Value)
}

extension HandleKind {
    static func dispose(_ value: Value) {}
}

enum RNGHandle: HandleKind {
    typealias Value = RNG
    static let tag: UInt64 = 0x524E_475F_4C46_5201  // "RFL_RNG" + 1
    static let name = "rfl_rng"
}

/// An expression is held unmanaged: rolling through C then costs no reference counting.
enum ExprHandle: HandleKind {
    typealias Value = Unmanaged<CompiledEntry>
    static let tag: UInt64 = 0x5250_5845_4C46_5202
    static let name = "rfl_expr"
    static func dispose(_ value: Value) { value.release() }
}

enum RulesetHandle: HandleKind {
    typealias Value = LoadedRuleset
    static let tag: UInt64 = 0x5445_5352_4C46_5203
    static let name = "rfl_ruleset"
}

enum CharacterHandle: HandleKind {
    typealias Value = CharacterSheet
    static let tag: UInt64 = 0x5241_4843_4C46_5204
    static let name = "rfl_character"
}


enum Handles {
    /// A new handle holding `value`.
    static func make<Kind: HandleKind>(_ kind: Kind.Type, _ value: Kind.Value) -> OpaquePointer {
        let box = UnsafeMutablePointer<Box<Kind.Value>>.allocate(capacity: 1)
        box.initialize(to: Box(tag: Kind.tag, value: value))
        return OpaquePointer(box)
    }

    /// The box behind a handle, or a misuse error naming the argument.
    @inline(__always)
    static func open<Kind: HandleKind>(_ pointer: OpaquePointer?, _ kind: Kind.Type, _ argument: String) throws(EngineError) -> UnsafeMutablePointer<Box<Kind.Value>> {
        guard let pointer else { throw EngineError(.misuse, "\(argument) is NULL") }
        let raw = UnsafeRawPointer(pointer)
        guard Int(bitPattern: raw) & 7 == 0, raw.loadUnaligned(as: UInt64.self) == Kind.tag else {
            throw EngineError(.misuse, "\(argument) is not a live \(Kind.name) (freed, or another kind of handle)")
        }
        return UnsafeMutableRawPointer(mutating: raw).assumingMemoryBound(to: Box<Kind.Value>.self)
    }

    /// Frees a handle: clears its tag first, so that later use is refused. NULL and foreign
    /// pointers are ignored (a free has no status to report them with; the message is set).
    static func free<Kind: HandleKind>(_ pointer: OpaquePointer?, _ kind: Kind.Type) {
        guard let pointer else { return }
        let raw = UnsafeRawPointer(pointer)
        guard Int(bitPattern: raw) & 7 == 0, raw.loadUnaligned(as: UInt64.self) == Kind.tag else {
            ErrorState.set(EngineError(.misuse, "\(Kind.name)_free: not a live \(Kind.name)"))
            return
        }
        let box = UnsafeMutableRawPointer(mutating: raw).assumingMemoryBound(to: Box<Kind.Value>.self)
        box.pointee.tag = 0
        Kind.dispose(box.pointee.value)
        box.deinitialize(count: 1)
        box.deallocate()
    }
}

/// A compiled expression with C copies of its stat ids, which rfl_expr_stat_name hands out and
/// which live as long as the handle.
final class CompiledEntry {
    let expression: DiceExpression
    let statNames: [UnsafeMutablePointer<CChar>]

    init(_ expression: DiceExpression) {
        self.expression = expression
        statNames = expression.statReferences.compactMap { id in id.withCString { strdup($0) } }
    }

    deinit {
        for name in statNames { free(name) }
    }
}
