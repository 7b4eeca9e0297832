import Foundation

/// Decides when to remind the user about tasks that are due.
public final class ReminderPlanner {
    /// How long before the due date a reminder fires.
    public enum Lead {
        case atTime
        case minutes(Int)
        case hours(Int)

        /// The lead as a time interval to subtract from the due date.
        var interval: TimeInterval {
            switch self {
            case .atTime: return 0
            case .minutes(let m): return TimeInterval(m * 60)
            case .hours(let h): return TimeInterval(h * 3600)
            }
        }
    }

    /// One planned reminder.
    public struct Reminder: Equatable {
        public let todoID: UUID
        public let fireDate: Date
    }

    private let lead: Lead

    public init(lead: Lead = .minutes(15)) {
        self.lead = lead
    }

    /// Reminders for every open, dated task whose fire date is still ahead of `now`.
    public func plan(for todos: [Todo], now: Date = Date()) -> [Reminder] {
        todos.compactMap { todo -> Reminder? in
            guard let due = todo.due, !todo.isDone else { return nil }
            let fire = due.addingTimeInterval(-lead.interval)
            return fire > now ? Reminder(todoID: todo.id, fireDate: fire) : nil
        }
        .sorted { $0.fireDate < $1.fireDate }
    }
}
