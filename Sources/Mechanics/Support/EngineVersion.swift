/// The engine's version, also reported by `rfl --version` and `rfl_version()`.
public enum EngineVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
}
