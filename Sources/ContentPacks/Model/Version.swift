/// A semantic version (semver.org): MAJOR.MINOR.PATCH with an optional pre-release.
public struct SemanticVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    public var prerelease: [String]
    public var build: String?

    public init(_ major: Int, _ minor: Int, _ patch: Int, prerelease: [String] = [], build: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
    }

    /// Parses `1.2.3`, `1.2.3-beta.1`, `1.2.3+build`.
    public init?(_ text: String) {
        var core = Substring(text)
        var build: String?
        if let plus = core.firstIndex(of: "+") {
            build = String(core[core.index(after: plus)...])
            core = core[..<plus]
        }
        var prerelease: [String] = []
        if let dash = core.firstIndex(of: "-") {
            prerelease = core[core.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard prerelease.allSatisfy({ !$0.isEmpty }) else { return nil }
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let major = SemanticVersion.number(parts[0]), let minor = SemanticVersion.number(parts[1]),
              let patch = SemanticVersion.number(parts[2]) else { return nil }
        self.init(major, minor, patch, prerelease: prerelease, build: build)
    }

    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), text.count <= 9 else { return nil }
        guard text == "0" || text.first != "0" else { return nil }
        return Int(text)
    }

    public var description: String {
        var text = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.joined(separator: ".") }
        if let build { text += "+" + build }
        return text
    }

    /// Precedence per semver.org: build metadata does not count; a pre-release ranks below its
    /// release.
    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        if a.prerelease.isEmpty || b.prerelease.isEmpty { return !a.prerelease.isEmpty && b.prerelease.isEmpty }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (Int(x), Int(y)) {
            case let (i?, j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return x < y
            }
        }
        return a.prerelease.count < b.prerelease.count
    }

    public static func == (a: SemanticVersion, b: SemanticVersion) -> Bool {
        (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch) && a.prerelease == b.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(prerelease)
    }
}

/// A range of versions as npm writes them: `1.2.3`, `^1.2`, `~1.2.3`, `>=1.0.0 <2.0.0`, `1.x`,
/// `*`, and alternatives joined by `||`.
public struct VersionRange: Hashable, Sendable, CustomStringConvertible {
    struct Comparator: Hashable, Sendable {
        enum Op: Hashable, Sendable { case less, lessOrEqual, greater, greaterOrEqual, equal }
        var op: Op
        var version: SemanticVersion

        func matches(_ v: SemanticVersion) -> Bool {
            switch op {
            case .less: v < version
            case .lessOrEqual: v <= version
            case .greater: v > version
            case .greaterOrEqual: v >= version
            case .equal: v == version
            }
        }
    }

    public let text: String
    /// Alternatives, each a conjunction of comparators; empty conjunction matches everything.
    let alternatives: [[Comparator]]

    public var description: String { text }

    public func contains(_ version: SemanticVersion) -> Bool {
        alternatives.contains { all in all.allSatisfy { $0.matches(version) } }
    }

    /// Parses a range; throws a message naming what is wrong.
    public init(_ text: String) throws(RangeError) {
        self.text = text
        var alternatives: [[Comparator]] = []
        for alternative in text.split(separator: "|", omittingEmptySubsequences: true) {
            let words = alternative.words()
            var comparators: [Comparator] = []
            for word in words where word != "*" && word.lowercased() != "x" {
                comparators += try VersionRange.parse(Substring(word))
            }
            alternatives.append(comparators)
        }
        guard !text.contains("|") || text.contains("||") else { throw RangeError("use '||' between alternatives, not '|'") }
        if alternatives.isEmpty { alternatives = [[]] }
        self.alternatives = alternatives
    }

    public struct RangeError: Error, Sendable {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    /// One word: an optional operator and a full or partial version.
    private static func parse(_ word: Substring) throws(RangeError) -> [Comparator] {
        var rest = word
        var prefix = ""
        for candidate in [">=", "<=", ">", "<", "=", "^", "~"] where rest.hasPrefix(candidate) {
            prefix = candidate
            rest = rest.dropFirst(candidate.count)
            break
        }
        guard !rest.isEmpty else { throw RangeError("'\(word)' has an operator but no version") }
        var core = rest
        var prerelease: [String] = []
        if let dash = core.firstIndex(of: "-") {
            prerelease = core[core.index(after: dash)...].split(separator: ".").map(String.init)
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { throw RangeError("'\(word)' is not a version: expected MAJOR.MINOR.PATCH") }
        var numbers: [Int] = []
        for part in parts {
            if part == "x" || part == "X" || part == "*" { break }
            guard let number = SemanticVersion.number(part) else { throw RangeError("'\(word)' is not a version: '\(part)' is not a number") }
            numbers.append(number)
        }
        let given = numbers.count
        let v = SemanticVersion(numbers.count > 0 ? numbers[0] : 0, numbers.count > 1 ? numbers[1] : 0, numbers.count > 2 ? numbers[2] : 0,
                                prerelease: given == 3 ? prerelease : [])
        func next(_ level: Int) -> SemanticVersion {
            switch level {
            case 0: SemanticVersion(v.major + 1, 0, 0, prerelease: ["0"])
            case 1: SemanticVersion(v.major, v.minor + 1, 0, prerelease: ["0"])
            default: SemanticVersion(v.major, v.minor, v.patch + 1, prerelease: ["0"])
            }
        }
        // A partial version stands for every version it leaves open.
        let partialUpper = given < 3 && given > 0 ? next(given - 1) : nil
        switch prefix {
        case "", "=":
            if given == 0 { return [] }
            if let upper = partialUpper { return [Comparator(op: .greaterOrEqual, version: v), Comparator(op: .less, version: upper)] }
            return [Comparator(op: .equal, version: v)]
        case "^":
            guard given > 0 else { return [] }
            let level = v.major > 0 || given == 1 ? 0 : (v.minor > 0 || given == 2 ? 1 : 2)
            return [Comparator(op: .greaterOrEqual, version: v), Comparator(op: .less, version: next(level))]
        case "~":
            guard given > 0 else { return [] }
            return [Comparator(op: .greaterOrEqual, version: v), Comparator(op: .less, version: next(given == 1 ? 0 : 1))]
        case ">=":
            return given == 0 ? [] : [Comparator(op: .greaterOrEqual, version: v)]
        case ">":
            if given == 0 { return [Comparator(op: .less, version: SemanticVersion(0, 0, 0, prerelease: ["0"]))] }
            if let upper = partialUpper { return [Comparator(op: .greaterOrEqual, version: upper)] }
            return [Comparator(op: .greater, version: v)]
        case "<":
            return given == 0 ? [Comparator(op: .less, version: SemanticVersion(0, 0, 0, prerelease: ["0"]))] : [Comparator(op: .less, version: given < 3 ? SemanticVersion(v.major, v.minor, v.patch, prerelease: ["0"]) : v)]
        case "<=":
            if given == 0 { return [] }
            if let upper = partialUpper { return [Comparator(op: .less, version: upper)] }
            return [Comparator(op: .lessOrEqual, version: v)]
        default:
            throw RangeError("'\(word)' has an unknown operator")
        }
    }
}
