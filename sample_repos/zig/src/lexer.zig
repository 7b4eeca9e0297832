//! Splits INI text into lines of sections, key/value pairs and comments.

const std = @import("std");

/// What one line of an INI file holds.
pub const LineKind = enum {
    blank,
    comment,
    section,
    pair,
};

/// One classified line, with slices into the source text.
pub const Line = struct {
    kind: LineKind,
    number: usize,
    key: []const u8 = "",
    value: []const u8 = "",
};

/// Errors a malformed line can raise.
pub const LexError = error{
    UnclosedSection,
    MissingEquals,
    EmptyKey,
};

/// Iterates over the lines of a source text, classifying each one.
pub const Lexer = struct {
    lines: std.mem.SplitIterator(u8, .scalar),
    number: usize = 0,

    /// A lexer over `source`, positioned before its first line.
    pub fn init(source: []const u8) Lexer {
        return .{ .lines = std.mem.splitScalar(u8, source, '\n') };
    }

    /// The next line, or null at the end of the text.
    pub fn next(self: *Lexer) LexError!?Line {
        const raw = self.lines.next() orelse return null;
        self.number += 1;
        return try classify(std.mem.trim(u8, raw, " \t\r"), self.number);
    }
};

/// Decides what a trimmed line is; `[name]` opens a section, `key = value` is a pair.
fn classify(text: []const u8, number: usize) LexError!Line {
    if (text.len == 0) return .{ .kind = .blank, .number = number };
    if (text[0] == ';' or text[0] == '#') return .{ .kind = .comment, .number = number };
    if (text[0] == '[') {
        if (text[text.len - 1] != ']') return error.UnclosedSection;
        return .{ .kind = .section, .number = number, .key = text[1 .. text.len - 1] };
    }
    const eq = std.mem.indexOfScalar(u8, text, '=') orelse return error.MissingEquals;
    const key = std.mem.trim(u8, text[0..eq], " \t");
    if (key.len == 0) return error.EmptyKey;
    return .{ .kind = .pair, .number = number, .key = key, .value = std.mem.trim(u8, text[eq + 1 ..], " \t") };
}

test "classify a section header" {
    const line = try classify("[server]", 1);
    try std.testing.expectEqual(LineKind.section, line.kind);
    try std.testing.expectEqualStrings("server", line.key);
}
