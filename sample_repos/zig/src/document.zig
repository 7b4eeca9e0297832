//! An INI document: sections of key/value pairs, looked up by dotted names.

const std = @import("std");
const lexer = @import("lexer.zig");

/// A parsed INI file. Keys are stored as `section.key`; keys before any section have no prefix.
pub const Document = struct {
    allocator: std.mem.Allocator,
    values: std.StringHashMap([]const u8),

    /// Where parsing stopped, for error messages.
    pub const Diagnostic = struct {
        line: usize = 0,
    };

    /// Parses `source`; on a syntax error, `diag.line` names the offending line.
    pub fn parse(allocator: std.mem.Allocator, source: []const u8, diag: *Diagnostic) !Document {
        var doc = Document{ .allocator = allocator, .values = std.StringHashMap([]const u8).init(allocator) };
        errdefer doc.deinit();
        var lex = lexer.Lexer.init(source);
        var section: []const u8 = "";
        while (true) {
            diag.line = lex.number + 1;
            const line = (try lex.next()) orelse break;
            switch (line.kind) {
                .section => section = line.key,
                .pair => try doc.put(section, line.key, line.value),
                .blank, .comment => {},
            }
        }
        return doc;
    }

    /// Stores `value` under `section.key`, replacing an earlier value.
    fn put(self: *Document, section: []const u8, key: []const u8, value: []const u8) !void {
        const name = if (section.len == 0)
            try self.allocator.dupe(u8, key)
        else
            try std.fmt.allocPrint(self.allocator, "{s}.{s}", .{ section, key });
        const old = try self.values.fetchPut(name, value);
        if (old) |kv| self.allocator.free(kv.key);
    }

    /// The value of a dotted name such as `server.port`.
    pub fn get(self: Document, name: []const u8) ?[]const u8 {
        return self.values.get(name);
    }

    /// Frees the stored names.
    pub fn deinit(self: *Document) void {
        var it = self.values.keyIterator();
        while (it.next()) |key| self.allocator.free(key.*);
        self.values.deinit();
    }
};

test "keys are prefixed by their section" {
    var diag = Document.Diagnostic{};
    var doc = try Document.parse(std.testing.allocator, "a = 1\n[db]\nhost = x\n", &diag);
    defer doc.deinit();
    try std.testing.expectEqualStrings("x", doc.get("db.host").?);
}
