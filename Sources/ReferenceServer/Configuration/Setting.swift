import Foundation

/// One setting of ``ServerConfiguration``: its key, what it means, its default as `.env.example`
/// writes it (read off the property's initial value), and how a given value is read and checked,
/// with a message naming the key when it is refused.
struct Setting {
    let key: String
    let meaning: String
    /// Never logged or printed.
    var secret = false
    let defaultText: (ServerConfiguration) -> String
    /// Reads a given value into the configuration; nil for keys read together (the S3 store's).
    let read: ((inout ServerConfiguration, String) throws -> Void)?

    init(key: String, meaning: String, secret: Bool = false, defaultText: @escaping (ServerConfiguration) -> String,
         read: ((inout ServerConfiguration, String) throws -> Void)?) {
        self.key = key
        self.meaning = meaning
        self.secret = secret
        self.defaultText = defaultText
        self.read = read
    }

    /// A whole number within `range`.
    static func integer(_ key: String, _ path: WritableKeyPath<ServerConfiguration, Int>, _ range: ClosedRange<Int>, _ meaning: String) -> Setting {
        Setting(key: key, meaning: meaning, defaultText: { String($0[keyPath: path]) }) { configuration, raw in
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw ConfigurationError("\(key): '\(raw)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            configuration[keyPath: path] = value
        }
    }

    static func text(_ key: String, _ path: WritableKeyPath<ServerConfiguration, String>, _ meaning: String) -> Setting {
        Setting(key: key, meaning: meaning, defaultText: { $0[keyPath: path] }) { configuration, raw in configuration[keyPath: path] = raw }
    }

    /// A text whose absence means something (written empty in `.env.example`).
    static func optionalText(_ key: String, _ path: WritableKeyPath<ServerConfiguration, String?>, secret: Bool = false, _ meaning: String) -> Setting {
        Setting(key: key, meaning: meaning, secret: secret, defaultText: { $0[keyPath: path] ?? "" }) { configuration, raw in
            configuration[keyPath: path] = raw
        }
    }

    /// One of `choices`, named in any case.
    static func choice<Value: RawRepresentable>(_ key: String, _ path: WritableKeyPath<ServerConfiguration, Value>, _ choices: [Value],
                                                _ meaning: String) -> Setting where Value.RawValue == String {
        Setting(key: key, meaning: meaning, defaultText: { $0[keyPath: path].rawValue }) { configuration, raw in
            guard let value = choices.first(where: { $0.rawValue == raw.lowercased() }) else {
                let names = choices.map(\.rawValue)
                let list = names.count == 2 ? "\(names[0]) or \(names[1])" : "one of " + names.joined(separator: ", ")
                throw ConfigurationError("\(key): '\(raw)' is not \(list)")
            }
            configuration[keyPath: path] = value
        }
    }

    /// A key read together with others, after the table (the S3 store's).
    static func group(_ key: String, _ defaultText: String, _ meaning: String) -> Setting {
        Setting(key: key, meaning: meaning, secret: key.hasSuffix("SECRET_ACCESS_KEY"), defaultText: { _ in defaultText }, read: nil)
    }
}
