package confy

/** A parsed configuration value: a tree of sections, lists and scalars. */
sealed trait ConfigValue {

  /** The value at a dotted path such as `db.pool.size`, if every step exists. */
  def at(path: String): Option[ConfigValue] = {
    path.split('.').foldLeft(Option(this)) {
      case (Some(ConfigValue.Section(fields)), key) => fields.get(key)
      case _                                        => None
    }
  }

  /** A short name of the kind of value, for error messages. */
  def kind: String
}

/** The kinds of configuration values and helpers to build them. */
object ConfigValue {

  /** A quoted or bare string. */
  final case class Str(value: String) extends ConfigValue {
    def kind = "string"
  }

  /** A whole or decimal number. */
  final case class Num(value: BigDecimal) extends ConfigValue {
    def kind = "number"
  }

  /** `true` or `false`. */
  final case class Bool(value: Boolean) extends ConfigValue {
    def kind = "boolean"
  }

  /** A bracketed list of values. */
  final case class Items(values: List[ConfigValue]) extends ConfigValue {
    def kind = "list"
  }

  /** A named group of fields, in the order they were written. */
  final case class Section(fields: Map[String, ConfigValue]) extends ConfigValue {
    def kind = "section"
  }

  /**
   * Merges two sections, the fields of `overrides` winning; nested sections merge too.
   */
  def merge(base: ConfigValue, overrides: ConfigValue): ConfigValue = (base, overrides) match {
    case (Section(a), Section(b)) =>
      Section(b.foldLeft(a) { case (acc, (key, value)) =>
        acc.updated(key, acc.get(key).fold(value)(merge(_, value)))
      })
    case (_, other) => other
  }
}
