//! inicheck: validates an INI file against the server's schema.

const std = @import("std");
const Document = @import("document.zig").Document;
const schema = @import("schema.zig");

/// The keys a server configuration must define.
const server_fields = [_]schema.Field{
    .{ .name = "server.host", .type = .string },
    .{ .name = "server.port", .type = .int },
    .{ .name = "server.timeout", .type = .duration },
    .{ .name = "log.verbose", .type = .boolean, .required = false },
};

/// Reads the file named on the command line and prints every schema violation.
pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){};
    defer _ = gpa.deinit();
    const allocator = gpa.allocator();

    const args = try std.process.argsAlloc(allocator);
    defer std.process.argsFree(allocator, args);
    if (args.len < 2) return error.MissingPath;

    const source = try std.fs.cwd().readFileAlloc(allocator, args[1], 1 << 20);
    defer allocator.free(source);

    var diag = Document.Diagnostic{};
    var doc = Document.parse(allocator, source, &diag) catch |err| {
        std.debug.print("{s}:{d}: {s}\n", .{ args[1], diag.line, @errorName(err) });
        return err;
    };
    defer doc.deinit();

    var issues: std.ArrayList(schema.Issue) = .empty;
    defer issues.deinit(allocator);
    try schema.validate(&server_fields, doc, &issues, allocator);
    for (issues.items) |issue| switch (issue) {
        .missing => |name| std.debug.print("missing key {s}\n", .{name}),
        .wrong_type => |name| std.debug.print("bad value for {s}\n", .{name}),
    };
}
