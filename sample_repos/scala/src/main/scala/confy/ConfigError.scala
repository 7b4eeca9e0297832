package confy

/** Where in the input an error was found (1-based). */
final case class Position(line: Int, column: Int)

/** Everything that can go wrong when loading configuration. */
enum ConfigError {
  case Syntax(message: String, at: Position)
  case Missing(path: String)
  case WrongType(path: String, expected: String, found: String)

  /** A one-line description for logs and the command line. */
  def describe: String = this match {
    case Syntax(message, at)              => s"${at.line}:${at.column}: $message"
    case Missing(path)                    => s"missing setting $path"
    case WrongType(path, expected, found) => s"$path: expected $expected, found $found"
  }
}

/** The outcome of loading or decoding: a value or the first error. */
type Result[A] = Either[ConfigError, A]
