package confy

import java.nio.file.{Files, Path}
import scala.util.Try

/**
 * Loads configuration files, merging a base file with optional overrides.
 */
class Loader(baseDir: Path) {

  /** Reads and parses one file relative to the base directory. */
  def load(name: String): Result[ConfigValue] = {
    Try(Files.readString(baseDir.resolve(name))).toEither.left
      .map(e => ConfigError.Syntax(s"cannot read $name: ${e.getMessage}", Position(0, 0)))
      .flatMap(Parser.parse)
  }

  /**
   * Loads `application.conf`, then merges `<profile>.conf` over it when that file exists.
   */
  def loadProfile(profile: String): Result[ConfigValue] = {
    for {
      base    <- load("application.conf")
      overlay <- if (Files.exists(baseDir.resolve(s"$profile.conf"))) load(s"$profile.conf") else Right(base)
    } yield ConfigValue.merge(base, overlay)
  }
}
