"""C#, Kotlin, Scala and Swift: their query files' forms, their sample repos, and C#'s XML doc tags."""

from __future__ import annotations

from indexer.docs import clean_doc
from indexer.languages import parser
from indexer.parse import extract_symbols, rewritten
from indexer.types import SourceFile, SymbolKind
from tests.conftest import symbols_of

GROUP = ["csharp", "kotlin", "scala", "swift"]




def test_csharp_namespaces_qualify_and_xml_docs_are_cleaned() -> None:
    """Block and file-scoped namespaces prefix types; `///` docs lose their XML tags; auto-properties are not symbols."""
    block = (
        "namespace A.B {\n  /// <summary>\n  /// Holds <see cref=\"X\"/>.\n  /// </summary>\n"
        "  public class C {\n    public int Auto { get; set; }\n    public int Size { get { return 1; } }\n"
        "    /// <summary>Runs.</summary>\n    /// <param name=\"n\">How many.</param>\n"
        "    public void Run(int n) { int Twice() => 2 * n; }\n    public C() {}\n  }\n"
        "  interface I { void X(); }\n  record R(int A);\n  enum E { A }\n  struct S { }\n  public delegate void D();\n}\n"
    )
    syms = symbols_of("csharp", block)
    assert syms["A.B.C"].kind is SymbolKind.CLASS and syms["A.B.C"].doc == "Holds X."
    assert syms["A.B.C.Run"].kind is SymbolKind.METHOD and syms["A.B.C.Run"].doc == "Runs.\nHow many."
    assert syms["A.B.C.Run.Twice"].kind is SymbolKind.FUNCTION
    assert syms["A.B.C.Size"].kind is SymbolKind.METHOD and syms["A.B.C.Size"].signature == "public int Size"
    assert "A.B.C.Auto" not in syms and syms["A.B.C.C"].kind is SymbolKind.METHOD
    assert {q: syms[q].kind for q in ("A.B.I", "A.B.I.X", "A.B.R", "A.B.E", "A.B.S", "A.B.D")} == {
        "A.B.I": SymbolKind.INTERFACE, "A.B.I.X": SymbolKind.METHOD, "A.B.R": SymbolKind.CLASS,
        "A.B.E": SymbolKind.ENUM, "A.B.S": SymbolKind.CLASS, "A.B.D": SymbolKind.TYPE,
    }
    scoped = symbols_of("csharp", "using System;\n\nnamespace Shop.Orders;\n\npublic class Order { public void Pay() {} }\n")
    assert set(scoped) == {"Shop.Orders.Order", "Shop.Orders.Order.Pay"}


def test_clean_doc_strips_xml_doc_tags_only() -> None:
    """XML doc tags go, references keep their target; other angle brackets stay."""
    raw = '/// <summary>\n/// Maps <paramref name="row"/> to <c>T</c>.\n/// </summary>\n/// <returns>The <see langword="null"/> or a T.</returns>'
    assert clean_doc(raw) == "Maps row to T.\n\nThe null or a T."
    assert clean_doc("// Returns List<string> when a < b.") == "Returns List<string> when a < b."


def test_kotlin_classes_objects_extensions_and_companions() -> None:
    """Extension functions are named by their receiver type; companion members by their class; kinds by keyword."""
    code = (
        "package p\n\n/**\n * A box.\n */\ndata class Box<T>(val v: T) {\n    /** Other ctor. */\n"
        "    constructor() : this(TODO())\n\n    fun get(): T = v\n\n    companion object {\n"
        "        fun empty(): Box<Int> = Box(0)\n    }\n}\n\ninterface Shape {\n    fun area(): Double\n}\n\n"
        "enum class Color { RED, GREEN }\n\nobject Registry {\n    fun add() {}\n}\n\n"
        "// Doubles.\nfun Int.twice(): Int = this * 2\n\nfun <K, V> Map.Entry<K, V>.pair() = key to value\n\n"
        "val String.initial: Char\n    get() = this[0]\n\ntypealias Id = String\n\nfun top() {\n    fun local() {}\n}\n"
    )
    syms = symbols_of("kotlin", code)
    assert syms["Box"].kind is SymbolKind.CLASS and syms["Box"].doc == "A box."
    assert syms["Box.constructor"].kind is SymbolKind.METHOD and syms["Box.constructor"].doc == "Other ctor."
    assert syms["Box.get"].kind is SymbolKind.METHOD and syms["Box.empty"].kind is SymbolKind.METHOD
    assert syms["Shape"].kind is SymbolKind.INTERFACE and syms["Shape.area"].kind is SymbolKind.METHOD
    assert syms["Color"].kind is SymbolKind.ENUM and "Color" in syms and syms["Registry"].kind is SymbolKind.CLASS
    assert syms["Int.twice"].kind is SymbolKind.FUNCTION and syms["Int.twice"].doc == "Doubles."
    assert syms["Entry.pair"].kind is SymbolKind.FUNCTION and syms["String.initial"].kind is SymbolKind.FUNCTION
    assert syms["Id"].kind is SymbolKind.TYPE and syms["top.local"].kind is SymbolKind.FUNCTION
    assert sum(1 for s in syms.values() if s.name == "Color") == 1  # an enum class is not a class too


def test_kotlin_2_guards_annotated_accessors_and_where_as_a_name_keep_their_file_parsed() -> None:
    """tree-sitter-kotlin 1.1 predates Kotlin 2.1: a guard in a `when` branch, an annotation on a getter
    and a variable called `where` each made it fail the whole file (Exposed's `UpdateStatement` was not
    found as a class). The registry's rewrites keep offsets, and the code is still the original."""
    code = (
        "class UpdateStatement(val where: Op?) : Builder() {\n"
        "    val identifier\n        @OptIn(InternalApi::class)\n        get() = name\n\n"
        "    fun arguments(): Int {\n        where?.let { register(it) }\n        return when (targets) {\n"
        "            is Join if dialect is OracleDialect -> 1\n            is Join if (\n                ok\n"
        "            ) -> 2\n            is Table -> if (x) 3 else 4\n            else -> 0\n        }\n    }\n}\n\n"
        "fun <T> pick(a: T): T where T : Comparable<T> = a\n"
    )
    syms = symbols_of("kotlin", code)
    assert syms["UpdateStatement"].kind is SymbolKind.CLASS
    arguments = syms["UpdateStatement.arguments"]
    assert arguments.kind is SymbolKind.METHOD and (arguments.start_line, arguments.end_line) == (6, 16)
    assert "is Join if dialect is OracleDialect -> 1" in arguments.code and "where?.let" in arguments.code
    assert syms["UpdateStatement.identifier"].kind is SymbolKind.METHOD and syms["pick"].kind is SymbolKind.FUNCTION
    assert rewritten(code.encode(), "kotlin") != code.encode() and len(rewritten(code.encode(), "kotlin")) == len(code)


def test_kotlin_annotated_primary_constructor_on_its_own_line_keeps_the_class_members() -> None:
    """Kotlin's stdlib writes `class Regex` / `@PublishedApi` / `internal constructor(...)` on three lines:
    tree-sitter-kotlin failed from the annotation on, and every member of `Regex` was code between
    definitions. The annotations before such a constructor are blanked (lines and offsets stay)."""
    code = (
        "/** A compiled regular expression. */\npublic actual class Regex\n@PublishedApi\n@Suppress(\"X\")\n"
        "internal constructor(private val nativePattern: Pattern) : Serializable {\n"
        "    /** Returns the first match of this regular expression in the [input]. */\n"
        "    public actual fun find(input: CharSequence, startIndex: Int = 0): MatchResult? = null\n\n"
        "    @JvmOverloads\n    constructor(pattern: String) : this(Pattern.compile(pattern))\n}\n"
    )
    syms = symbols_of("kotlin", code)
    regex = syms["Regex"]
    assert regex.kind is SymbolKind.CLASS and (regex.start_line, regex.end_line) == (2, 11)
    assert regex.doc == "A compiled regular expression."
    find = syms["Regex.find"]
    assert find.kind is SymbolKind.METHOD and find.start_line == 7 and find.doc.startswith("Returns the first match")
    assert "@PublishedApi" in regex.code and len(rewritten(code.encode(), "kotlin")) == len(code)


def test_scala_objects_traits_givens_extensions_and_anonymous_instances() -> None:
    """Objects and case classes are classes; a val holding `new T { ... }` and an extension qualify their defs."""
    code = (
        "package p\n\n/** Codec.\n  * More.\n  */\ntrait Codec[A] {\n  def encode(a: A): String\n}\n\n"
        "object Codec {\n  implicit val int: Codec[Int] = new Codec[Int] {\n    def encode(a: Int): String = a.toString\n  }\n\n"
        "  final case class Named(name: String)\n\n  given str: Codec[String] with {\n    def encode(a: String) = a\n  }\n\n"
        "  given fallback: Codec[Unit] = new Codec[Unit] { def encode(a: Unit) = \"\" }\n}\n\n"
        "extension (s: String) {\n  def shout: String = s.toUpperCase\n}\n\n"
        "enum Level { case Low, High }\n\ntype Id = Long\n\npackage object util { def p = 1 }\n"
    )
    syms = symbols_of("scala", code)
    assert syms["Codec"].kind in (SymbolKind.TRAIT, SymbolKind.CLASS)
    assert [s.kind for s in extract_symbols(SourceFile("x.scala", "scala", code.encode())) if s.qualname == "Codec"] == [
        SymbolKind.TRAIT, SymbolKind.CLASS]
    assert syms["Codec.encode"].kind is SymbolKind.METHOD
    assert syms["Codec.int.encode"].kind is SymbolKind.METHOD and "Codec.int" not in syms
    assert syms["Codec.Named"].kind is SymbolKind.CLASS
    assert syms["Codec.str"].kind is SymbolKind.CLASS and syms["Codec.str.encode"].kind is SymbolKind.METHOD
    assert syms["Codec.fallback"].kind is SymbolKind.METHOD
    assert syms["String.shout"].kind is SymbolKind.FUNCTION
    assert syms["Level"].kind is SymbolKind.ENUM and syms["Id"].kind is SymbolKind.TYPE
    assert syms["util"].kind is SymbolKind.MODULE and syms["util.p"].kind is SymbolKind.METHOD


def test_scaladoc_is_cleaned() -> None:
    """A Scaladoc block with its leading-star margin becomes plain text."""
    syms = symbols_of("scala", "/** Codec.\n  *\n  * More.\n  */\ntrait Codec[A]\n")
    assert syms["Codec"].doc == "Codec.\n\nMore."


def test_swift_types_extensions_and_computed_properties() -> None:
    """Extensions qualify their members, which are methods; structs are classes; stored properties are not symbols."""
    code = (
        "import Foundation\n\n/// A point.\n/// In 2D.\npublic struct Point {\n    var x: Double\n"
        "    /// Length.\n    var length: Double { x }\n    init(x: Double) { self.x = x }\n"
        "    func moved() -> Point { func helper() {}; return self }\n}\n\n"
        "extension Point: Equatable {\n    static func == (a: Point, b: Point) -> Bool { a.x == b.x }\n"
        "    func scaled(by f: Double) -> Point { Point(x: x * f) }\n}\n\n"
        "protocol Shape {\n    func area() -> Double\n}\n\nenum Axis { case x, y\n    func flip() -> Axis { self }\n}\n\n"
        "actor Counter {\n    func bump() {}\n}\n\ntypealias Meters = Double\n\nfunc distance() -> Double { 0 }\n"
    )
    syms = symbols_of("swift", code)
    assert syms["Point"].kind is SymbolKind.CLASS and syms["Point"].doc == "A point.\nIn 2D."
    assert "Point.x" not in syms and syms["Point.length"].kind is SymbolKind.METHOD
    assert syms["Point.length"].doc == "Length."
    assert syms["Point.init"].kind is SymbolKind.METHOD and syms["Point.moved.helper"].kind is SymbolKind.FUNCTION
    assert syms["Point.scaled"].kind is SymbolKind.METHOD
    assert syms["Shape"].kind is SymbolKind.INTERFACE and syms["Shape.area"].kind is SymbolKind.METHOD
    assert syms["Axis"].kind is SymbolKind.ENUM and syms["Axis.flip"].kind is SymbolKind.METHOD
    assert syms["Counter"].kind is SymbolKind.CLASS and syms["Counter.bump"].kind is SymbolKind.METHOD
    assert syms["Meters"].kind is SymbolKind.TYPE and syms["distance"].kind is SymbolKind.FUNCTION
    assert sum(1 for s in syms.values() if s.name == "Point") == 1  # the extension is a scope, not a second Point


def test_swift_compiler_block_first_in_a_switch_is_blanked_for_the_parser() -> None:
    """tree-sitter-swift reads a `#if` right after `switch x {` as an error; in expo's `AppContext` (944 lines) the
    error ran from the class to the end of the file, and every member was code between definitions. The block is
    blanked for the parser, its line breaks kept (the members after it keep their lines), the code shown is the
    original, and a `#if` elsewhere is left alone."""
    code = (
        "public class AppContext: NSObject {\n  private func handle(_ n: Notification) {\n    switch n.name {\n"
        "    #if os(iOS)\n    case UIApplication.didBecomeActiveNotification:\n      post(.active)\n"
        "    #elseif os(macOS)\n    case NSApplication.didHideNotification:\n      post(.background)\n    #endif\n"
        "    default:\n      return\n    }\n  }\n\n  #if DEBUG\n  /** Returns whether the module is registered. */\n"
        "  public func hasModule(_ name: String) -> Bool {\n    return registry.has(name)\n  }\n  #endif\n}\n"
    )
    parsed_code = rewritten(code.encode(), "swift")
    assert parser("swift").parse(code.encode()).root_node.has_error
    assert not parser("swift").parse(parsed_code).root_node.has_error
    assert parsed_code.count(b"\n") == code.count("\n") and b"#if DEBUG" in parsed_code
    syms = symbols_of("swift", code)
    assert "#elseif os(macOS)" in syms["AppContext.handle"].code
    has = syms["AppContext.hasModule"]
    assert has.kind is SymbolKind.METHOD and has.start_line == 18
    assert has.doc == "Returns whether the module is registered."


def test_csharp_operators_and_conversions_are_methods() -> None:
    """Polly's `public static implicit operator PredicateBuilder(...)` was only a line of its class's outline."""
    code = ("public class P {\n  /// <summary>From an int.</summary>\n"
            "  public static implicit operator PredicateBuilder(int x) => new();\n"
            "  public static P operator +(P a, P b) { return a; }\n}\n")
    symbols = extract_symbols(SourceFile("x.cs", "csharp", code.encode()))
    found = [(s.qualname, s.kind, s.start_line, s.doc) for s in symbols]
    assert found[1:] == [("P.operator", SymbolKind.METHOD, 3, "From an int."), ("P.operator", SymbolKind.METHOD, 4, "")]


def test_swift_operator_functions_are_definitions_and_consume_keeps_the_file_parsed() -> None:
    """A new user on expo-modules-core: `static func ==`, `func ??` and `func ~>` were only in code windows (the
    grammar names an operator function by its token, and labels the return type `name` too); and
    `switch consume result {` (Swift 5.9) made the whole of `AsyncFunctionDefinition.swift` an error, its class and
    methods lost. The operator is blanked for the parser where a name follows; `consume(x)` and a function named
    `consume` are left alone."""
    code = (
        "struct V {\n  static func == (l: V, r: V) -> Bool { true }\n  static func ~> (l: V, r: V) -> V { l }\n"
        "  static prefix func - (v: V) -> V { v }\n  func plain() -> Int { 1 }\n}\n"
        "func ?? (a: Int?, b: Int) -> Int { a ?? b }\nfunc <(a: V, b: V) -> Bool { true }\n"
        "protocol P { static func == (l: Self, r: Self) -> Bool }\n"
    )
    syms = symbols_of("swift", code)
    assert [(q, s.kind, s.start_line) for q, s in syms.items() if q not in ("V", "P")] == [
        ("V.==", SymbolKind.METHOD, 2), ("V.~>", SymbolKind.METHOD, 3), ("V.-", SymbolKind.METHOD, 4),
        ("V.plain", SymbolKind.METHOD, 5), ("??", SymbolKind.FUNCTION, 7), ("<", SymbolKind.FUNCTION, 8),
        ("P.==", SymbolKind.METHOD, 9)]
    consuming = (
        "/// Runs asynchronously.\npublic class AsyncFunction<Args> {\n  func call(_ done: (Result) -> Void) {\n"
        "    run { result in\n      switch consume result {\n      case .success(let value):\n        done(value)\n"
        "      default:\n        break\n      }\n    }\n    let y = consume x\n    consume(y)\n  }\n"
        "  func consume<T>(_ x: T) {}\n  func build() -> Int { 1 }\n}\n"
    )
    assert parser("swift").parse(consuming.encode()).root_node.has_error
    assert not parser("swift").parse(rewritten(consuming.encode(), "swift")).root_node.has_error
    syms = symbols_of("swift", consuming)
    assert list(syms) == ["AsyncFunction", "AsyncFunction.call", "AsyncFunction.consume", "AsyncFunction.build"]
    assert "switch consume result {" in syms["AsyncFunction.call"].code and syms["AsyncFunction.build"].start_line == 16


def test_java_enum_constant_bodies_name_the_methods_they_override() -> None:
    """A new user on javac: `IncorporationBinaryOpKind`'s constants each override `apply`, and the three chunks were
    all named `Infer.IncorporationBinaryOpKind.apply`, none telling which constant. A constant with a body scopes
    them (`K.IS_SUBTYPE.apply`); the enum's own abstract method keeps its name."""
    code = ("package x;\n/** Kinds. */\nenum K {\n  IS_SUBTYPE {\n    boolean apply(int a) { return true; }\n  },\n"
            "  IS_SAME {\n    boolean apply(int a) { return false; }\n  },\n  PLAIN;\n"
            "  abstract boolean apply(int a);\n}\n")
    syms = symbols_of("java", code)
    assert [(q, s.kind, s.start_line) for q, s in syms.items()] == [
        ("K", SymbolKind.ENUM, 3), ("K.IS_SUBTYPE.apply", SymbolKind.METHOD, 5),
        ("K.IS_SAME.apply", SymbolKind.METHOD, 8), ("K.apply", SymbolKind.METHOD, 11)]


def test_csharp_conditional_compilation_is_read_as_its_first_branch() -> None:
    """A new user on Json.NET: an `#if` in a class's base list (`class JToken : IA` then `#if ...` `, ICloneable`)
    or between an `if`'s block and its `else` took the class: JToken, JObject, JContainer and 27 more files had
    their members unscoped (`TryGet`, `TryGet.if`); indexers (`this[...]`) were only outline lines. The directives
    and the later branches are blanked for the parser; the code shown is the file's."""
    code = ("\ufeff#if !NET20\nnamespace N {\n  /// <summary>Holds.</summary>\n  public abstract class JToken : IA, IB\n"
            "#if !(PORTABLE)\n        , ICloneable\n#endif\n  {\n"
            "    /// <summary>Gets the token at a key.</summary>\n"
            "    public JToken this[object key] { get { return null; } set { } }\n    public string this[int i] => \"\";\n"
            "    public bool TryGet(int a) {\n      if (a > 0) { return true; }\n#if !(NET40)\n"
            "      else if (a < 0) { return false; }\n#elif NET35\n#if X\n      else if (a < -2) {\n#endif\n#else\n"
            "      else if (a < -1) { return false; }\n#endif\n      else { return false; }\n    }\n  }\n}\n#endif\n")
    symbols = extract_symbols(SourceFile("x.cs", "csharp", code.encode()))
    assert [(s.qualname, s.kind, s.start_line, s.end_line, s.doc) for s in symbols] == [
        ("N.JToken", SymbolKind.CLASS, 4, 25, "Holds."),
        ("N.JToken.this", SymbolKind.METHOD, 10, 10, "Gets the token at a key."),
        ("N.JToken.this", SymbolKind.METHOD, 11, 11, ""),
        ("N.JToken.TryGet", SymbolKind.METHOD, 12, 24, "")]
    assert "else if (a < -1)" in symbols[-1].code  # the code is the file's, every branch
    blanked = rewritten(code.encode(), "csharp")
    assert len(blanked) == len(code.encode()) and blanked.count(b"\n") == code.count("\n")
    assert b"#" not in blanked and b"a < -2" not in blanked and b"a < -1" not in blanked and b"a < 0" in blanked
    unbalanced = b"#endif\nclass A { }\n#else\nclass B { }\n#if X\nclass C { }\n#else\nclass D { }\n"
    assert rewritten(unbalanced, "csharp") == (b"      \nclass A { }\n     \nclass B { }\n     \nclass C { }\n"
                                               b"     \n           \n")


def test_scala_symbolic_names_are_definitions() -> None:
    """A new user on Scala's library: `def +=`, `def ->`, `case class ::` and `object +:` (1,213 symbolic defs) were
    only lines of their class's outline (ListBuffer had no `+=`), and a name's leading colon was taken for a Ruby
    symbol's (`::` was `:`, `:+` was `+`)."""
    code = ("/** A buffer. */\nclass LB[A] {\n  /** Appends one. */\n  def +=(x: A): this.type = { this }\n"
            "  def ->[B](y: B) = (this, y)\n  def -(x: A): LB[A]\n}\n"
            "final case class ::[B](head: B, tl: List[B]) extends List[B] {\n  def :+(x: B) = this\n}\n"
            "object +: { def unapply(x: Int) = None }\n")
    symbols = extract_symbols(SourceFile("x.scala", "scala", code.encode()))
    assert [(s.qualname, s.kind, s.start_line, s.doc) for s in symbols] == [
        ("LB", SymbolKind.CLASS, 2, "A buffer."), ("LB.+=", SymbolKind.METHOD, 4, "Appends one."),
        ("LB.->", SymbolKind.METHOD, 5, ""), ("LB.-", SymbolKind.METHOD, 6, ""), ("::", SymbolKind.CLASS, 8, ""),
        ("::.:+", SymbolKind.METHOD, 9, ""), ("+:", SymbolKind.CLASS, 11, ""), ("+:.unapply", SymbolKind.METHOD, 11, "")]


def test_kotlin_an_annotation_read_as_an_expression_keeps_the_kdoc_with_its_declaration() -> None:
    """A new user on Kotlin's standard library: `@SinceKotlin("1.2")` on its own line above a top-level function
    was, in about 1,600 places, an expression of its own to the grammar: the KDoc above it and the annotation were a
    code chunk, and the function had no doc. The annotation joins the comment block, and is no part of the doc."""
    code = ("package kotlin.streams\n\nimport java.util.*\nimport java.util.stream.*\n\n/**\n"
            " * Creates a [Sequence] that wraps the stream.\n */\n@SinceKotlin(\"1.2\")\n"
            "public fun <T> Stream<T>.asSequence(): Sequence<T> = Sequence { iterator() }\n\n"
            "/**\n * Wraps an int stream.\n */\n@SinceKotlin(\"1.2\")\n"
            "public fun IntStream.asSequence(): Sequence<Int> = Sequence { iterator() }\n")
    symbols = extract_symbols(SourceFile("Streams.kt", "kotlin", code.encode()))
    assert [(s.qualname, s.doc) for s in symbols] == [
        ("Stream.asSequence", "Creates a [Sequence] that wraps the stream."),
        ("IntStream.asSequence", "Wraps an int stream.")]


def test_kotlin_an_actual_constructor_on_its_own_line_keeps_the_class() -> None:
    """Kotlin's `SafeContinuation`: `internal actual class SafeContinuation<in T>` then `internal actual constructor(`
    ended the class at its name, and `resumeWith` and `getOrThrow` were code between definitions."""
    code = ("internal actual class SafeContinuation<in T>\ninternal actual constructor(\n"
            "    private val delegate: Continuation<T>\n) : Continuation<T> {\n"
            "    public actual override fun resumeWith(result: Result<T>) { }\n}\n")
    assert [(s.qualname, s.start_line, s.end_line) for s in extract_symbols(SourceFile("S.kt", "kotlin",
                                                                                        code.encode()))] == [
        ("SafeContinuation", 1, 6), ("SafeContinuation.resumeWith", 5, 5)]
