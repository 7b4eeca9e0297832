import Foundation

/// How urgent a task is; higher sorts first.
public enum Priority: Int, Codable, CaseIterable {
    case low = 0
    case normal = 1
    case high = 2

    /// A symbol shown next to the title in lists.
    public var badge: String {
        switch self {
        case .low: return ""
        case .normal: return "!"
        case .high: return "!!"
        }
    }
}

/// One task on the list.
public struct Todo: Identifiable, Codable, Equatable {
    public let id: UUID
    public var title: String
    public var notes: String
    public var priority: Priority
    public var due: Date?
    public var completedAt: Date?

    /// Creates an open task, due at `due` if given.
    public init(title: String, notes: String = "", priority: Priority = .normal, due: Date? = nil) {
        self.id = UUID()
        self.title = title
        self.notes = notes
        self.priority = priority
        self.due = due
    }

    /// Whether the task has been ticked off.
    public var isDone: Bool {
        completedAt != nil
    }

    /// Whether the task is still open and its due date has passed.
    public func isOverdue(at now: Date = Date()) -> Bool {
        guard let due, !isDone else { return false }
        return due < now
    }
}

extension Todo: Comparable {
    /// Open before done, then by priority, then by due date (undated last).
    public static func < (lhs: Todo, rhs: Todo) -> Bool {
        if lhs.isDone != rhs.isDone { return !lhs.isDone }
        if lhs.priority != rhs.priority { return lhs.priority.rawValue > rhs.priority.rawValue }
        return (lhs.due ?? .distantFuture) < (rhs.due ?? .distantFuture)
    }
}
