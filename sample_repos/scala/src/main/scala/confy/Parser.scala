package confy

import scala.collection.mutable

/**
 * Parses the `key = value` configuration format with `[section]` headers.
 */
object Parser {

  /** Reads a whole document into a section tree. */
  def parse(text: String): Result[ConfigValue] = {
    val root    = mutable.LinkedHashMap.empty[String, ConfigValue]
    var section = List.empty[String]
    text.linesIterator.zipWithIndex.foldLeft[Result[Unit]](Right(())) { case (acc, (raw, index)) =>
      acc.flatMap { _ =>
        val line = stripComment(raw).trim
        if (line.isEmpty) Right(())
        else if (line.startsWith("[")) { section = line.stripPrefix("[").stripSuffix("]").split('.').toList; Right(()) }
        else parseAssignment(line, Position(index + 1, 1)).map { case (key, value) => insert(root, section :+ key, value) }
      }
    }.map(_ => ConfigValue.Section(root.toMap))
  }

  /** Splits `key = value` and parses the value. */
  private def parseAssignment(line: String, at: Position): Result[(String, ConfigValue)] = {
    line.split("=", 2) match {
      case Array(key, value) => parseValue(value.trim, at).map(key.trim -> _)
      case _                 => Left(ConfigError.Syntax("expected key = value", at))
    }
  }

  /**
   * Parses one scalar or list; bare words are strings.
   */
  def parseValue(text: String, at: Position): Result[ConfigValue] = text match {
    case "true" | "false"                   => Right(ConfigValue.Bool(text.toBoolean))
    case t if t.startsWith("\"")            => Right(ConfigValue.Str(t.stripPrefix("\"").stripSuffix("\"")))
    case t if t.startsWith("[")             =>
      val parts = t.stripPrefix("[").stripSuffix("]").split(',').map(_.trim).filter(_.nonEmpty).toList
      parts.foldRight[Result[List[ConfigValue]]](Right(Nil)) { (part, acc) =>
        for { rest <- acc; value <- parseValue(part, at) } yield value :: rest
      }.map(ConfigValue.Items(_))
    case t if t.toDoubleOption.isDefined    => Right(ConfigValue.Num(BigDecimal(t)))
    case t                                  => Right(ConfigValue.Str(t))
  }

  private def stripComment(line: String): String = {
    val hash = line.indexOf('#')
    if (hash < 0) line else line.substring(0, hash)
  }

  private def insert(root: mutable.Map[String, ConfigValue], path: List[String], value: ConfigValue): Unit = {
    val nested = path.init.foldLeft(ConfigValue.Section(Map.empty): ConfigValue)((_, _) => ConfigValue.Section(Map.empty))
    val tree   = path.init.foldRight(Map(path.last -> value)) { (key, inner) => Map(key -> ConfigValue.Section(inner)) }
    tree.foreach { case (key, v) => root.update(key, root.get(key).fold(v)(ConfigValue.merge(_, v))) }
    val _ = nested
  }
}
