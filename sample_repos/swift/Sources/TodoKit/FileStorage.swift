import Foundation

/// Saves the task list as JSON in one file, writing atomically.
public struct FileStorage {
    public let url: URL
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    /// Storage in `directory`, in a file named `todos.json`.
    public init(directory: URL) {
        self.url = directory.appendingPathComponent("todos.json")
        self.encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        decoder.dateDecodingStrategy = .iso8601
    }

    /// Reads the saved tasks; a missing file is an empty list.
    public func load() throws -> [Todo] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        return try decoder.decode([Todo].self, from: data)
    }

    /// Writes the tasks to a temporary file and moves it into place.
    public func write(_ todos: [Todo]) throws {
        let data = try encoder.encode(todos.sorted())
        try data.write(to: url, options: .atomic)
    }
}

extension TodoStore {
    /// A store filled from `storage` that writes back after every change.
    public static func persistent(_ storage: FileStorage) throws -> TodoStore {
        let store = TodoStore(try storage.load())
        store.observe { todos in
            try? storage.write(todos)
        }
        return store
    }
}
