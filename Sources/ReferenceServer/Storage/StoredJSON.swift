import Foundation

/// The JSON text of stored values (lists, maps, a log entry's content), written and read the
/// same way by every store. Keys are sorted, so that the same value is always the same text. A
/// value that does not encode is an error for the caller, never a placeholder stored in its
/// place.
package enum StoredJSON {
    /// The value as JSON text; throws the encoder's error when it does not encode.
    package static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The value of one column as JSON text; a value that does not encode is a
    /// `StoredValueError` naming the table and the column.
    package static func text<T: Encodable>(_ value: T, table: String, column: String) throws -> String {
        do {
            return try text(value)
        } catch {
            throw StoredValueError(table: table, column: column, reason: "does not encode as JSON: \(error)")
        }
    }

    /// Reads the JSON text stored in one column; text that does not read as `type` is a
    /// `StoredValueError` naming the table and the column.
    package static func value<T: Decodable>(_ type: T.Type, from text: String, table: String, column: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoredValueError(table: table, column: column, reason: "does not read as JSON of the expected shape: \(error)")
        }
    }
}

/// A value that cannot go into its column, or a stored value that does not read as what its
/// column holds (a damaged or hand-edited row): the table and column, and why.
package struct StoredValueError: Error, Equatable, CustomStringConvertible {
    package var table: String
    package var column: String
    package var reason: String

    package init(table: String, column: String, reason: String) {
        self.table = table
        self.column = column
        self.reason = reason
    }

    package var description: String { "\(table).\(column): the value \(reason)" }
}
