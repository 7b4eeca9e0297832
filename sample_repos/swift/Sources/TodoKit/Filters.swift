import Foundation

extension Array where Element == Todo {
    /// The open tasks due on the same calendar day as `date`.
    func dueOn(_ date: Date, calendar: Calendar = .current) -> [Todo] {
        filter { todo in
            guard let due = todo.due, !todo.isDone else { return false }
            return calendar.isDate(due, inSameDayAs: date)
        }
    }

    /// Tasks whose title or notes contain `text`, ignoring case and accents.
    func matching(_ text: String) -> [Todo] {
        let needle = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        return filter { todo in
            [todo.title, todo.notes].contains { field in
                field.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).contains(needle)
            }
        }
    }

    /// How many tasks are done, as a fraction from 0 to 1.
    var progress: Double {
        isEmpty ? 0 : Double(filter(\.isDone).count) / Double(count)
    }
}

/// Groups tasks by priority, each group sorted, highest priority first.
public func groupedByPriority(_ todos: [Todo]) -> [(Priority, [Todo])] {
    let groups = Dictionary(grouping: todos, by: \.priority)
    return Priority.allCases.reversed().compactMap { priority in
        groups[priority].map { (priority, $0.sorted()) }
    }
}
