/// The outcome of rolling an expression once: its total and a trace of every die, so a player can
/// see why the total is what it is.
public struct Roll: Sendable, Hashable {
    /// One die of a pool: a die of the expression, or one added by an explosion (`!`).
    public struct Die: Sendable, Hashable {
        /// The die as written: `d6`, `d%`, `dF`.
        public var label: String
        /// The column of the dice term this die belongs to.
        public var column: Int
        /// The faces that count, in draw order: one face, or several when the die compounds
        /// (`!!`, `!p`).
        public var faces: [Int64]
        /// Faces drawn and then discarded by a reroll (`r`, `ro`), in draw order.
        public var rerolled: [Int64]
        /// What the die is worth before success counting: its face after `min`/`max`, or the sum
        /// of a compounding die's faces.
        public var value: Int64
        /// False when keep/drop dropped the die, or a group dropped the item it belongs to.
        public var kept: Bool
        /// The die's face set off an explosion.
        public var exploded: Bool
        /// The die was added by an explosion (`!`).
        public var fromExplosion: Bool
        /// Successes the die scores under success counting: 0, 1, or 2 with `dbl`.
        public var successes: Int
        /// The die meets the failure compare point (`f`), which takes one success away.
        public var failure: Bool

        public init(label: String, column: Int, faces: [Int64], rerolled: [Int64] = [], value: Int64,
                    kept: Bool = true, exploded: Bool = false, fromExplosion: Bool = false,
                    successes: Int = 0, failure: Bool = false) {
            self.label = label
            self.column = column
            self.faces = faces
            self.rerolled = rerolled
            self.value = value
            self.kept = kept
            self.exploded = exploded
            self.fromExplosion = fromExplosion
            self.successes = successes
            self.failure = failure
        }
    }

    /// The expression's value.
    public var total: Int64
    /// Every die, in the order the dice were drawn.
    public var dice: [Die]

    public init(total: Int64, dice: [Die]) {
        self.total = total
        self.dice = dice
    }
}
