//! Required keys and their types, checked against a document.

const std = @import("std");
const Document = @import("document.zig").Document;
const convert = @import("convert.zig");

/// The type a key's value must have.
pub const ValueType = enum { string, int, boolean, duration };

/// One required key of a schema.
pub const Field = struct {
    name: []const u8,
    type: ValueType,
    required: bool = true,

    /// Whether `value` reads as this field's type.
    pub fn accepts(self: Field, value: []const u8) bool {
        return switch (self.type) {
            .string => true,
            .int => if (convert.toInt(i64, value)) |_| true else |_| false,
            .boolean => if (convert.toBool(value)) |_| true else |_| false,
            .duration => if (convert.toMillis(value)) |_| true else |_| false,
        };
    }
};

/// A problem found by `validate`.
pub const Issue = union(enum) {
    missing: []const u8,
    wrong_type: []const u8,
};

/// Checks every field against `doc`, appending what is wrong to `issues`.
pub fn validate(fields: []const Field, doc: Document, issues: *std.ArrayList(Issue), allocator: std.mem.Allocator) !void {
    for (fields) |field| {
        const value = doc.get(field.name) orelse {
            if (field.required) try issues.append(allocator, .{ .missing = field.name });
            continue;
        };
        if (!field.accepts(value)) try issues.append(allocator, .{ .wrong_type = field.name });
    }
}
