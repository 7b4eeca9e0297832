package confy

/** Typed reading of settings from a loaded configuration. */
extension (config: ConfigValue) {

  /** The setting at `path` decoded as `A`; missing settings are an error. */
  def get[A: Decoder](path: String): Result[A] = {
    config.at(path).toRight(ConfigError.Missing(path)).flatMap(Decoder[A].decode(_, path))
  }

  /** The setting at `path`, or `default` when it is missing. */
  def getOrElse[A: Decoder](path: String, default: => A): Result[A] = {
    config.at(path).fold[Result[A]](Right(default))(Decoder[A].decode(_, path))
  }
}

/**
 * Overrides settings from environment variables: `APP_DB_HOST` sets `db.host`.
 */
def withEnvironment(config: ConfigValue, prefix: String, env: Map[String, String] = sys.env): ConfigValue = {
  env.collect { case (name, raw) if name.startsWith(prefix + "_") =>
    val path = name.stripPrefix(prefix + "_").toLowerCase.split('_').toList
    path.foldRight[ConfigValue](ConfigValue.Str(raw)) { (key, inner) => ConfigValue.Section(Map(key -> inner)) }
  }.foldLeft(config)(ConfigValue.merge)
}
