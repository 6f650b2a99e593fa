import Foundation
import OpenAPIRuntime
@testable import ReferenceServer
import Testing

/// The server's one RFC 3339 reader and writer: strict, bounded, never trapping, and writing
/// exactly what the OpenAPI runtime's `.iso8601` transcoder wrote before it.
@Suite struct RFC3339Tests {
    static func seconds(_ text: String) -> Double? { RFC3339.parse(text)?.timeIntervalSince1970 }

    @Test func validFormsAreRead() {
        #expect(Self.seconds("2024-01-01T10:00:00Z") == 1_704_103_200)
        // Lowercase t and z, as RFC 3339 allows.
        #expect(Self.seconds("2024-01-01t10:00:00z") == 1_704_103_200)
        // Offsets: local time minus the offset is UTC; -00:00 is UTC.
        #expect(Self.seconds("2024-01-01T11:30:00+01:30") == 1_704_103_200)
        #expect(Self.seconds("2024-01-01T05:00:00-05:00") == 1_704_103_200)
        #expect(Self.seconds("2024-01-01T10:00:00-00:00") == 1_704_103_200)
        #expect(Self.seconds("2024-01-02T09:59:00+23:59") == 1_704_103_200)
        // Fractions of 1 to 9 digits, kept.
        let whole = 1_704_103_200.0
        for (fraction, value) in [("5", 0.5), ("25", 0.25), ("125", 0.125), ("1234", 0.1234), ("12345", 0.12345), ("123456", 0.123456),
                                  ("1234567", 0.1234567), ("12345678", 0.12345678), ("123456789", 0.123456789)] {
            let date = RFC3339.parse("2024-01-01T10:00:00.\(fraction)Z")
            #expect(date.map { abs($0.timeIntervalSince1970 - (whole + value)) < 1e-6 } == true, "\(fraction)")
        }
        // Longer fractions: the first nine digits count, up to 32 digits in all.
        #expect(RFC3339.parse("2024-01-01T10:00:00.999999999999Z") == RFC3339.parse("2024-01-01T10:00:00.999999999Z"))
        #expect(RFC3339.parse("2024-01-01T10:00:00." + String(repeating: "1", count: 32) + "Z") != nil)
        // Leap days of leap years, 2000 (divisible by 400) among them.
        #expect(Self.seconds("2024-02-29T00:00:00Z") == 1_709_164_800)
        #expect(RFC3339.parse("2000-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2024-12-31T23:59:59Z") != nil)
        // Any StringProtocol.
        #expect(RFC3339.parse("[2024-01-01T10:00:00Z]".dropFirst().dropLast()) == RFC3339.parse("2024-01-01T10:00:00Z"))
    }

    @Test func invalidFormsAreRefused() {
        let refused = [
            "",
            "2023-02-29T00:00:00Z", // not a leap year
            "1900-02-29T00:00:00Z", // a century not divisible by 400
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-01-01T23:59:60Z", // a leap second: refused
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-32T00:00:00Z",
            // Missing parts.
            "2024-01-01",
            "2024-01-01T10:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00+01",
            "2024-01-01T10:00:00+0100",
            "2024-1-01T10:00:00Z",
            "24-01-01T10:00:00Z",
            "T10:00:00Z",
            // Offsets out of range.
            "2024-01-01T10:00:00+24:00",
            "2024-01-01T10:00:00+01:60",
            // Spaces, before, after, or for the T.
            " 2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00Z ",
            "2024-01-01 10:00:00Z",
            "2024-01-01T10:00:00 Z",
            // Trailing junk, signs, other characters.
            "2024-01-01T10:00:00ZZ",
            "2024-01-01T10:00:00Z\0",
            "2024-01-01T10:00:00+01:00:00",
            "+2024-01-01T10:00:00Z",
            "-2024-01-01T10:00:00Z",
            "12024-01-01T10:00:00Z",
            "2024-01-01T10:00:00,5Z",
            "2024-01-01X10:00:00Z",
            "2024/01/01T10:00:00Z",
            // Digits that are not ASCII: Arabic-Indic, fullwidth.
            "٢٠٢٤-01-01T10:00:00Z",
            "２０２４-01-01T10:00:00Z",
            "2024-01-01T10:00:00.٥Z",
            // Too long: 33 fraction digits, 500 of them, 100 KB.
            "2024-01-01T10:00:00." + String(repeating: "1", count: 33) + "Z",
            "2024-01-01T10:00:00." + String(repeating: "9", count: 500) + "Z",
            "2024-01-01T10:00:00Z" + String(repeating: " ", count: 100_000),
            String(repeating: "9", count: 100_000),
        ]
        for text in refused {
            #expect(RFC3339.parse(text) == nil, "\(text.prefix(60))")
        }
    }

    @Test func theExtremesDoNotTrap() {
        #expect(Self.seconds("0000-01-01T00:00:00Z") == Double(RFC3339.earliest))
        #expect(Self.seconds("9999-12-31T23:59:59Z") == Double(RFC3339.latest))
        #expect(RFC3339.parse("0000-02-29T00:00:00Z") != nil) // year 0 is a leap year
        #expect(RFC3339.parse("0000-01-01T00:00:00+23:59") != nil)
        #expect(RFC3339.parse("9999-12-31T23:59:59.999999999-23:59") != nil)
        #expect(RFC3339.format(Date(timeIntervalSince1970: Double(RFC3339.earliest))) == "0000-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: Double(RFC3339.latest))) == "9999-12-31T23:59:59Z")
        // Dates the four-digit year cannot write are written as its bounds, NaN as the earliest.
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1e300)) == "0000-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -.infinity)) == "0000-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: .nan)) == "0000-01-01T00:00:00Z")
        #expect(RFC3339.format(.distantFuture) == "4001-01-01T00:00:00Z")
        #expect(RFC3339.daysFromCivil(year: .max, month: 12, day: 31) == nil)
    }

    /// The same `Date`s as Foundation's ISO 8601 parser reads, on valid input it reads alike
    /// (fractions of up to three digits: it keeps milliseconds only).
    @Test func readsAsFoundationDoes() {
        let whole = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        var samples = ["2024-02-29T00:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2038-01-19T03:14:08+05:30", "9999-12-31T23:59:59Z",
                       "1600-02-29T12:00:00.5-08:00", "2026-11-27T10:00:00.000Z"]
        for index in 0..<3000 {
            // Years 1583 to 9999: Foundation writes earlier dates in the Julian calendar.
            let seconds = Int64.random(in: -12_212_553_600...RFC3339.latest, using: &generator)
            var text = String(RFC3339.format(Date(timeIntervalSince1970: Double(seconds))).dropLast())
            if index % 2 == 0 { text += "." + String((0..<Int.random(in: 1...3, using: &generator)).map { _ in "0123456789".randomElement(using: &generator)! }) }
            if index % 3 == 0 {
                let hours = Int.random(in: 0...23, using: &generator), minutes = Int.random(in: 0...59, using: &generator)
                text += (Bool.random(using: &generator) ? "+" : "-") + String(format: "%02d:%02d", hours, minutes)
            } else {
                text += "Z"
            }
            samples.append(text)
        }
        for text in samples {
            let foundation = text.contains(".") ? fractional.date(from: text) : whole.date(from: text)
            #expect(foundation != nil && RFC3339.parse(text) == foundation, "\(text)")
        }
    }

    /// What the runtime's `.iso8601` transcoder wrote is what ``RFC3339DateTranscoder`` writes,
    /// byte for byte, including its rounding (to the millisecond, halves up, then down to the
    /// second), and what it writes reads back.
    @Test func writesAsTheRuntimeDid() throws {
        let runtime: any DateTranscoder = .iso8601
        let ours: any DateTranscoder = .rfc3339
        var generator = SystemRandomNumberGenerator()
        var times: [Double] = [0, 1.5, -1.5, -0.0001, 0.0004999, 0.0005, 0.4995, 0.9995, -0.0005, 1_732_700_000.999999, 1_732_700_000.4995,
                               1_800_000_000, 253_402_300_799.4]
        for _ in 0..<5000 {
            times.append(Double.random(in: -12_212_553_600...253_402_300_799, using: &generator))
            let base = Double(Int64.random(in: 1_600_000_000...1_900_000_000, using: &generator)) + Double(Int.random(in: 0...999, using: &generator)) / 1000
            times.append(base + [0, 0.0005, -0.0005, 1e-7, -1e-7].randomElement(using: &generator)!)
        }
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            let written = try ours.encode(date)
            #expect(written == (try runtime.encode(date)), "\(time)")
            let back = try ours.decode(written)
            #expect(abs(back.timeIntervalSince(date)) <= 1, "\(time)")
            #expect(try ours.encode(back) == written)
        }
        #expect(throws: DecodingError.self) { try ours.decode("2024-01-01T10:00:00." + String(repeating: "9", count: 500) + "Z") }
        #expect(throws: DecodingError.self) { try ours.decode("yesterday") }
        // As ServerApplication configures the runtime.
        let configuration = OpenAPIRuntime.Configuration(dateTranscoder: .rfc3339, jsonEncodingOptions: [.sortedKeys])
        #expect(try configuration.dateTranscoder.encode(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00Z")
    }
}
