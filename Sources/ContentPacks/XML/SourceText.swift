/// The raw bytes of a file with its line starts: turns byte offsets into line and column (in
/// characters, from 1).
struct SourceText {
    let bytes: [UInt8]
    let lineStarts: [Int]
    /// The column at every `blockSize`-th byte, so that finding a column on a very long line
    /// (a pack written on one line) costs at most one block, not the line.
    private let blockColumns: [Int]
    private static let blockSize = 1024

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var columns: [Int] = []
        columns.reserveCapacity(bytes.count / Self.blockSize + 1)
        var column = 1
        for (index, byte) in bytes.enumerated() {
            if index % Self.blockSize == 0 { columns.append(column) }
            if byte == 0x0A {
                starts.append(index + 1)
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        lineStarts = starts
        blockColumns = columns
    }

    func location(of offset: Int) -> Location {
        let clamped = max(0, min(offset, bytes.count))
        // The last line start at or before the offset.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= clamped { low = middle } else { high = middle - 1 }
        }
        var column = 1
        var index = lineStarts[low]
        let block = clamped / Self.blockSize
        if block * Self.blockSize > index, block < blockColumns.count {
            index = block * Self.blockSize
            column = blockColumns[block]
        }
        while index < clamped {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return Location(line: low + 1, column: column)
    }

    /// The location `characters` characters after `start` within a raw attribute value, decoding
    /// character references and the predefined entities as one character each.
    func location(inValueAt start: Int, characters: Int) -> Location {
        var offset = start
        var remaining = characters
        while remaining > 0 && offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { break }
            if byte == UInt8(ascii: "&"), let end = bytes[offset...].firstIndex(of: UInt8(ascii: ";")), end - offset < 12 {
                offset = end + 1
            } else {
                offset += 1
                while offset < bytes.count && bytes[offset] & 0xC0 == 0x80 { offset += 1 }
            }
            remaining -= 1
        }
        return location(of: offset)
    }
}
