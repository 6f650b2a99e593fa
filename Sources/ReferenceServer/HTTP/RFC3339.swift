import Foundation
import OpenAPIRuntime

/// The server's one reader and writer of times: RFC 3339 `date-time` (section 5.6), strictly,
/// on UTF-8 bytes, without Foundation's formatters (which trap on some input, and accept
/// what is not RFC 3339) and without regular expressions.
///
/// Read: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, and nothing else.
/// - `T` or `t` between date and time, `Z` or `z` for UTC (RFC 3339 allows both cases); no
///   space instead of `T`, no spaces before or after, no other characters.
/// - The year is 0000 to 9999 (four digits, proleptic Gregorian calendar); the month 01 to 12;
///   the day 01 to the month's last day (29 February in leap years only: divisible by 4, and
///   by 400 for centuries); the hour 00 to 23; minutes 00 to 59; seconds 00 to 59. A leap
///   second (`:60`) is refused: a `Date` cannot hold it, and no client needs to send one.
/// - The fraction of a second is 1 to ``maxFractionDigits`` (32) digits: the first 9 are
///   kept (nanoseconds, the rest truncated, as a `Date` holds less anyway), the others must be
///   digits and are ignored; more than 32 is refused.
/// - The offset is `Z` or `+HH:MM` / `-HH:MM` with hours 00 to 23 and minutes 00 to 59
///   (`-00:00`, "offset unknown", reads as UTC).
/// - The whole text is at most ``maxLength`` (64) bytes: longer input is refused after
///   reading 65 bytes of it, so no input costs more than that.
/// Only ASCII digits are digits (not `٣` or `３`). Every sum and product is checked: no input
/// traps.
///
/// Written: `YYYY-MM-DDTHH:MM:SSZ`, whole seconds in UTC, byte for byte as the OpenAPI
/// runtime's `.iso8601` transcoder writes (Foundation's `ISO8601DateFormatter` with its
/// default options): the time rounded to the nearest millisecond (halves up), then down to the
/// second.
enum RFC3339 {
    /// The longest text read, in bytes.
    static let maxLength = 64
    /// The most digits a fraction of a second may have.
    static let maxFractionDigits = 32
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970: the times the
    /// four-digit year can write.
    static let earliest: Int64 = -62_167_219_200
    static let latest: Int64 = 253_402_300_799

    /// The time `text` names, or nil when it is not an RFC 3339 date-time as described above.
    static func parse(_ text: some StringProtocol) -> Date? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(maxLength)
        for byte in text.utf8 {
            guard bytes.count < maxLength else { return nil }
            bytes.append(byte)
        }
        return parse(utf8: bytes)
    }

    /// `date` as `YYYY-MM-DDTHH:MM:SSZ`. A date before year 0000 or after 9999 (which the
    /// server never makes) is written as the nearest of those bounds, a NaN date as the earliest,
    /// so that what is written always reads back. (Foundation's formatter writes dates before
    /// 15 October 1582 in the Julian calendar; these are proleptic Gregorian, as RFC 3339 says.)
    static func format(_ date: Date) -> String {
        // As Core Foundation does: milliseconds since 1970, plus a half, then down.
        let milliseconds = ((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        let seconds: Int64
        if !(milliseconds >= Double(earliest) * 1000) {
            seconds = earliest
        } else if milliseconds >= (Double(latest) + 1) * 1000 {
            seconds = latest
        } else {
            // In range: an exact whole number far below 2^63.
            let whole = Int64(milliseconds)
            seconds = whole >= 0 ? whole / 1000 : -((-whole + 999) / 1000)
        }
        return format(seconds: seconds)
    }

    // MARK: - Reading

    private static let zero = UInt8(ascii: "0")

    private static func digit(_ byte: UInt8) -> Int64? {
        byte >= zero && byte <= UInt8(ascii: "9") ? Int64(byte - zero) : nil
    }

    /// The `count` digits at `start` as a number (the caller has checked the length).
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for index in start..<(start + count) {
            guard let digit = digit(bytes[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func parse(utf8 bytes: [UInt8]) -> Date? {
        // The fixed part, `YYYY-MM-DDTHH:MM:SS`, and at least `Z` after it.
        guard bytes.count >= 20, bytes.count <= maxLength,
              let year = number(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
              let month = number(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = number(bytes, 8, 2), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = number(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = number(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = number(bytes, 17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59 else { return nil }

        var index = 19
        var nanoseconds: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, let value = digit(bytes[index]) {
                if index - start < 9 { nanoseconds = nanoseconds * 10 + value }
                index += 1
            }
            let count = index - start
            guard count >= 1, count <= maxFractionDigits else { return nil }
            for _ in count..<max(count, 9) { nanoseconds *= 10 }
        }

        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard bytes.count - index == 6, let hours = number(bytes, index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                  let minutes = number(bytes, index + 4, 2), hours <= 23, minutes <= 59 else { return nil }
            offset = (hours * 60 + minutes) * 60
            if bytes[index] == UInt8(ascii: "-") { offset = -offset }
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }

        // Local time minus the offset is UTC.
        guard let days = daysFromCivil(year: year, month: month, day: day),
              let midnight = multiply(days, 86_400),
              let local = add(midnight, hour * 3600 + minute * 60 + second),
              let seconds = add(local, -offset) else { return nil }
        // Whole milliseconds are made exactly as the stores and Foundation make them, so that a
        // time read here equals the same time read back from the database.
        if nanoseconds % 1_000_000 == 0, let milliseconds = multiply(seconds, 1000).flatMap({ add($0, nanoseconds / 1_000_000) }) {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }

    private static func add(_ a: Int64, _ b: Int64) -> Int64? {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : value
    }

    private static func multiply(_ a: Int64, _ b: Int64) -> Int64? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }

    /// Days from 1970-01-01 to the date in the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`), checked throughout; nil on overflow (not for years 0 to 9999).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64? {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        guard let eraYears = multiply(era, 400), let yearOfEra = add(y, -eraYears),
              let shiftedMonth = add(month, month > 2 ? -3 : 9),
              let monthDays = multiply(153, shiftedMonth).flatMap({ add($0, 2) }).map({ $0 / 5 }),
              let dayOfYear = add(monthDays, day - 1),
              let yearDays = multiply(yearOfEra, 365),
              let dayOfEra = add(yearDays, yearOfEra / 4 - yearOfEra / 100).flatMap({ add($0, dayOfYear) }),
              let eraDays = multiply(era, 146_097),
              let days = add(eraDays, dayOfEra) else { return nil }
        return add(days, -719_468)
    }

    // MARK: - Writing

    /// The civil date of a day since 1970 (Howard Hinnant's `civil_from_days`), for the days
    /// of years 0000 to 9999.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Seconds since 1970, from ``earliest`` to ``latest``, as `YYYY-MM-DDTHH:MM:SSZ`.
    private static func format(seconds: Int64) -> String {
        let clamped = min(max(seconds, earliest), latest)
        let days = clamped >= 0 ? clamped / 86_400 : -((-clamped + 86_399) / 86_400)
        let inDay = clamped - days * 86_400
        let date = civil(fromDays: days)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        func write(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(zero + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        write(date.year, 4)
        out.append(UInt8(ascii: "-"))
        write(date.month, 2)
        out.append(UInt8(ascii: "-"))
        write(date.day, 2)
        out.append(UInt8(ascii: "T"))
        write(inDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        write(inDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        write(inDay % 60, 2)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}

// MARK: - Transcoder

/// The OpenAPI runtime's dates (`format: date-time` in bodies and parameters) through
/// ``RFC3339``: written as the runtime's `.iso8601` writes them, read strictly, and never
/// trapping. A text that is not a date-time is a `DecodingError.dataCorrupted`, which the
/// server answers 400 naming the field.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        RFC3339.format(date)
    }

    func decode(_ string: String) throws -> Date {
        guard let date = RFC3339.parse(string) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected an RFC 3339 date-time such as 2026-11-27T10:00:00Z."))
        }
        return date
    }
}

extension DateTranscoder where Self == RFC3339DateTranscoder {
    /// ``RFC3339DateTranscoder``: `configuration: .init(dateTranscoder: .rfc3339, …)`.
    static var rfc3339: Self { RFC3339DateTranscoder() }
}
