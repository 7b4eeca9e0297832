//! Typed access to string values: integers, booleans and durations.

const std = @import("std");

/// Why a value could not be read as the requested type.
pub const ConvertError = error{ InvalidBool, InvalidDuration } || std.fmt.ParseIntError;

/// Reads `yes/no`, `true/false`, `on/off` or `1/0`, ignoring case.
pub fn toBool(value: []const u8) ConvertError!bool {
    const truthy = [_][]const u8{ "yes", "true", "on", "1" };
    const falsy = [_][]const u8{ "no", "false", "off", "0" };
    for (truthy) |word| if (std.ascii.eqlIgnoreCase(value, word)) return true;
    for (falsy) |word| if (std.ascii.eqlIgnoreCase(value, word)) return false;
    return error.InvalidBool;
}

/// Reads an integer of type `T`, in decimal or with a 0x/0o/0b prefix.
pub fn toInt(comptime T: type, value: []const u8) ConvertError!T {
    return std.fmt.parseInt(T, value, 0);
}

/// Reads a duration like `250ms`, `30s` or `5m` as milliseconds.
pub fn toMillis(value: []const u8) ConvertError!u64 {
    const units = [_]struct { suffix: []const u8, factor: u64 }{
        .{ .suffix = "ms", .factor = 1 },
        .{ .suffix = "s", .factor = 1000 },
        .{ .suffix = "m", .factor = 60_000 },
    };
    for (units) |unit| {
        if (std.mem.endsWith(u8, value, unit.suffix)) {
            const number = value[0 .. value.len - unit.suffix.len];
            return (std.fmt.parseInt(u64, number, 10) catch return error.InvalidDuration) * unit.factor;
        }
    }
    return error.InvalidDuration;
}

test "durations in every unit" {
    try std.testing.expectEqual(@as(u64, 250), try toMillis("250ms"));
    try std.testing.expectEqual(@as(u64, 300_000), try toMillis("5m"));
}
