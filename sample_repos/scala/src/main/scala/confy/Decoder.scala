package confy

/** Turns a configuration value into a Scala value of type `A`. */
trait Decoder[A] {

  /** Decodes `value`, found at `path`, or says why it cannot. */
  def decode(value: ConfigValue, path: String): Result[A]

  /** A decoder that transforms what this one produces. */
  def map[B](f: A => B): Decoder[B] = (value, path) => decode(value, path).map(f)
}

/** Decoders for the standard types. */
object Decoder {

  /** Summons the decoder in scope. */
  def apply[A](using decoder: Decoder[A]): Decoder[A] = decoder

  given string: Decoder[String] with {
    def decode(value: ConfigValue, path: String): Result[String] = value match {
      case ConfigValue.Str(s) => Right(s)
      case other              => Left(ConfigError.WrongType(path, "string", other.kind))
    }
  }

  /** Whole numbers; a decimal part is an error. */
  given int: Decoder[Int] with {
    def decode(value: ConfigValue, path: String): Result[Int] = value match {
      case ConfigValue.Num(n) if n.isValidInt => Right(n.toInt)
      case other                             => Left(ConfigError.WrongType(path, "integer", other.kind))
    }
  }

  given boolean: Decoder[Boolean] with {
    def decode(value: ConfigValue, path: String): Result[Boolean] = value match {
      case ConfigValue.Bool(b) => Right(b)
      case other               => Left(ConfigError.WrongType(path, "boolean", other.kind))
    }
  }

  /** A list whose items all decode with the item decoder. */
  given list[A](using item: Decoder[A]): Decoder[List[A]] = (value, path) => {
    value match {
      case ConfigValue.Items(values) =>
        values.zipWithIndex.foldRight[Result[List[A]]](Right(Nil)) { case ((v, i), acc) =>
          for { rest <- acc; a <- item.decode(v, s"$path[$i]") } yield a :: rest
        }
      case other => Left(ConfigError.WrongType(path, "list", other.kind))
    }
  }

  /**
   * Durations written as `30s`, `5m` or `2h`, in seconds.
   */
  val seconds: Decoder[Long] = new Decoder[Long] {
    def decode(value: ConfigValue, path: String): Result[Long] = value match {
      case ConfigValue.Str(s) if s.nonEmpty && s.init.forall(_.isDigit) =>
        s.last match {
          case 's' => Right(s.init.toLong)
          case 'm' => Right(s.init.toLong * 60)
          case 'h' => Right(s.init.toLong * 3600)
          case _   => Left(ConfigError.WrongType(path, "duration", s))
        }
      case other => Left(ConfigError.WrongType(path, "duration", other.kind))
    }
  }
}
