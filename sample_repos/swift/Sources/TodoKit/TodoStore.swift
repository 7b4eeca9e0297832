import Foundation

/// Errors a store reports to its callers.
public enum TodoStoreError: Error, Equatable {
    case notFound(UUID)
    case emptyTitle
}

/// Somewhere tasks are kept.
public protocol TodoStoring {
    /// Every task, in no particular order.
    func all() -> [Todo]

    /// Adds or replaces the task with the same id.
    mutating func save(_ todo: Todo) throws

    /// Deletes a task by id.
    mutating func delete(id: UUID) throws
}

/// Keeps tasks in memory and tells observers about every change.
public final class TodoStore: TodoStoring {
    /// Called with the full list after each change.
    public typealias Observer = ([Todo]) -> Void

    private var todos: [UUID: Todo] = [:]
    private var observers: [Observer] = []

    public init(_ initial: [Todo] = []) {
        for todo in initial {
            todos[todo.id] = todo
        }
    }

    public func all() -> [Todo] {
        Array(todos.values)
    }

    /// Saves a task after trimming its title; an empty title is refused.
    public func save(_ todo: Todo) throws {
        var todo = todo
        todo.title = todo.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !todo.title.isEmpty else { throw TodoStoreError.emptyTitle }
        todos[todo.id] = todo
        notify()
    }

    public func delete(id: UUID) throws {
        guard todos.removeValue(forKey: id) != nil else { throw TodoStoreError.notFound(id) }
        notify()
    }

    /// Marks a task done now, or open again when it was done.
    public func toggle(id: UUID, now: Date = Date()) throws {
        guard var todo = todos[id] else { throw TodoStoreError.notFound(id) }
        todo.completedAt = todo.isDone ? nil : now
        try save(todo)
    }

    /// Registers a closure to run after every change.
    public func observe(_ observer: @escaping Observer) {
        observers.append(observer)
        observer(all())
    }

    private func notify() {
        let snapshot = all()
        observers.forEach { $0(snapshot) }
    }
}
