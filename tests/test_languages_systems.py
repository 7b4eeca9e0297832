"""C, C++, Rust and Zig: their query files' forms, their sample repos, and `.h` read as C++."""

from __future__ import annotations

from pathlib import Path

from indexer.chunk import chunks_for_file
from indexer.docs import clean_doc
from indexer.languages import is_test_definition, language_for_path
from indexer.parse import extract_symbols
from indexer.types import SourceFile, SymbolKind
from tests.conftest import symbols_of

GROUP = ["c", "cpp", "rust", "zig"]




def test_rust_impl_blocks_qualify_methods_and_trait_methods_are_methods() -> None:
    """`impl Foo`, `impl<T> Trait for &Foo<T>`, `impl X for bool` and `impl X for io::Error` name their methods;
    a nested fn is a function."""
    code = (
        "/// A point.\npub struct Foo<T> { a: T }\n"
        "impl<T> Foo<T> {\n    /// Makes one.\n    pub fn new() -> Self { fn helper() {} todo!() }\n}\n"
        "impl<T> fmt::Display for &Foo<T> {\n    fn fmt(&self) {}\n}\n"
        "impl Serialize for bool {\n    fn serialize(&self) {}\n}\n"
        "impl From<Foo<u8>> for io::Error {\n    fn from(e: Foo<u8>) -> io::Error { todo!() }\n}\n"
        "/// Shapes.\npub trait Shape {\n    /// Area.\n    fn area(&self) -> f64;\n    fn name(&self) -> &str { \"s\" }\n}\n"
        "fn free() {}\n"
    )
    syms = symbols_of("rust", code)
    assert syms["Foo"].kind is SymbolKind.TYPE and syms["Foo"].doc == "A point."
    assert syms["Foo.new"].kind is SymbolKind.METHOD and syms["Foo.new"].doc == "Makes one."
    assert syms["Foo.new.helper"].kind is SymbolKind.FUNCTION
    assert syms["Foo.fmt"].kind is SymbolKind.METHOD and syms["bool.serialize"].kind is SymbolKind.METHOD
    assert syms["io::Error.from"].kind is SymbolKind.METHOD  # another crate's type: named with its path (walkdir)
    assert syms["Shape"].kind is SymbolKind.TRAIT and syms["Shape"].doc == "Shapes."
    assert syms["Shape.area"].kind is SymbolKind.METHOD and syms["Shape.area"].doc == "Area."
    assert syms["Shape.name"].kind is SymbolKind.METHOD
    assert syms["free"].kind is SymbolKind.FUNCTION
    assert "Foo.new" not in {s.qualname for s in syms.values() if s.kind is SymbolKind.FUNCTION}


def test_rust_docs_reach_items_through_attributes_and_inner_docs_document_modules() -> None:
    """`///` lines above `#[derive(...)]` (even one spanning lines) are the doc; `//!` is its module's doc only."""
    code = (
        "/// Why it failed.\n///\n/// More.\n#[derive(Debug,\n    Clone)]\n#[non_exhaustive]\npub enum E { A }\n\n"
        "#[inline]\nfn bare() {}\n\n"
        "/// Builds.\n#[macro_export]\nmacro_rules! build { () => {} }\n\n"
        "#[cfg(test)]\nmod tests {\n    //! Unit tests.\n    fn t() {}\n}\n"
        "type Id = u64;\nimpl E {\n    type Out = u8;\n}\n"
    )
    syms = symbols_of("rust", code)
    assert syms["E"].kind is SymbolKind.ENUM and syms["E"].doc == "Why it failed.\n\nMore."
    assert syms["bare"].doc == ""
    assert syms["build"].kind is SymbolKind.FUNCTION and syms["build"].doc == "Builds."
    assert syms["tests"].kind is SymbolKind.MODULE and syms["tests"].doc == "Unit tests."
    assert syms["tests.t"].doc == "" and "Unit tests" not in syms["tests"].code_without_doc
    assert syms["Id"].kind is SymbolKind.TYPE and "E.Out" not in syms  # an associated type is not a definition


def test_rust_attribute_lines_belong_to_their_item_not_to_code_chunks() -> None:
    """The lines of `#[derive]` above an undocumented struct are covered by it, not a `code` chunk of their own."""
    chunks = chunks_for_file(SourceFile("a.rs", "rust", b"use std::fmt;\n\n#[derive(Debug)]\nstruct S;\n"))
    assert [(c.kind.value, c.start_line, c.end_line) for c in chunks] == [("code", 1, 1), ("type", 4, 4)]


def test_clean_doc_drops_rust_attribute_lines_only() -> None:
    """Attribute lines, one-line or not, leave a doc block; other `#` comments keep their text."""
    assert clean_doc("/// Doc.\n#[cfg_attr(\n    docsrs,\n    doc(cfg(x))\n)]\n#[inline]") == "Doc."
    assert clean_doc("#[inline]") == ""
    assert clean_doc("# [1] is a footnote\n# see [1]") == "[1] is a footnote\nsee [1]"


def test_cpp_namespaces_classes_and_out_of_line_definitions() -> None:
    """Namespaces and classes qualify; `void ns::Foo::bar()` and `Foo<T>::baz` are `Foo.bar` and `Foo.baz` methods."""
    code = (
        "namespace net {\n/// A socket.\nclass Socket : public Base {\n public:\n  Socket();\n"
        "  /// Reads.\n  int read() const { return 0; }\n  virtual void close() = 0;\n  struct Options { int n; };\n};\n}\n"
        "/// Connects.\nvoid net::Socket::connect(int port) {}\nSocket::~Socket() {}\n"
        "template <typename T>\nT Box<T>::get() { return v; }\n"
        "bool operator==(const A& a, const A& b) { return true; }\nstatic const char **names(void) { return 0; }\n"
    )
    syms = symbols_of("cpp", code)
    assert syms["net.Socket"].kind is SymbolKind.CLASS and syms["net.Socket"].doc == "A socket."
    assert syms["net.Socket.read"].kind is SymbolKind.METHOD and syms["net.Socket.read"].doc == "Reads."
    assert "net.Socket.close" not in syms and "net.Socket.Socket" not in syms  # declarations only
    assert syms["net.Socket.Options"].kind is SymbolKind.CLASS
    assert syms["Socket.connect"].kind is SymbolKind.METHOD and syms["Socket.connect"].doc == "Connects."
    assert syms["Socket.~Socket"].kind is SymbolKind.METHOD
    assert syms["Box.get"].kind is SymbolKind.METHOD and syms["Box.get"].signature == "template <typename T> T Box<T>::get()"
    assert syms["operator=="].kind is SymbolKind.FUNCTION and syms["names"].kind is SymbolKind.FUNCTION


def test_cpp_templates_are_one_symbol_from_the_template_line() -> None:
    """A template function or class starts at `template <...>`, takes the doc above it, and is found once."""
    code = (
        "/// Clamps.\ntemplate <typename T>\nT clamp(T v) { return v; }\n\n"
        "/// Formats ints.\ntemplate <>\nstruct formatter<int> {\n  auto format(int v) -> int { return v; }\n};\n"
    )
    symbols = extract_symbols(SourceFile("x.hpp", "cpp", code.encode()))
    assert [(s.qualname, s.kind, s.start_line, s.end_line, s.doc) for s in symbols] == [
        ("clamp", SymbolKind.FUNCTION, 2, 3, "Clamps."),
        ("formatter", SymbolKind.CLASS, 6, 9, "Formats ints."),
        ("formatter.format", SymbolKind.METHOD, 8, 8, ""),
    ]


def test_c_functions_macros_and_typedef_structs() -> None:
    """Functions (pointer returns too), function-like macros and structs; prototypes and plain macros are not symbols."""
    code = (
        "/* Max. */\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n#define LIMIT 10\n"
        "int proto(int);\n/**\n * Names.\n */\nstatic const char **names(void) { return 0; }\n"
        "struct node { struct node *next; };\ntypedef struct { int x; } point_t;\ntypedef enum { RED, GREEN } color_t;\n"
        "typedef struct list_s { int n; } list_t;\n"
    )
    syms = symbols_of("c", code)
    assert syms["MAX"].kind is SymbolKind.FUNCTION and syms["MAX"].doc == "Max."
    assert "LIMIT" not in syms and "proto" not in syms
    assert syms["names"].kind is SymbolKind.FUNCTION and syms["names"].doc == "Names."
    assert syms["node"].kind is SymbolKind.TYPE and syms["point_t"].kind is SymbolKind.TYPE
    assert syms["color_t"].kind is SymbolKind.ENUM
    assert "list_s" in syms and "list_t" not in syms  # a named struct in a typedef is the struct


def test_header_files_are_cpp_and_macro_wrapped_definitions_are_named() -> None:
    """`.h` is parsed as C++ (C headers read alike); `EXPORT(int f(int x)) {...}` is `f`, not `EXPORT`."""
    assert language_for_path("include/fmt/format.h").name == "cpp" and language_for_path("src/uv.c").name == "c"
    code = "HEAP_EXPORT(void heap_init(struct heap* heap)) {\n  heap->n = 0;\n}\nint g(int (*cb)(int)) { return 0; }\n"
    assert set(symbols_of("cpp", code)) == {"heap_init", "g"}


def test_a_header_with_nothing_of_cpp_is_labelled_c_and_still_read_by_cpp_grammar(tmp_path: Path) -> None:
    """A C project's headers are C in results, stats and `--language c`; a header with a class, a namespace,
    a template or `::` in its code is C++; `::` in a comment or a string does not count. Both are read by
    C++'s grammar: a C header's macro-wrapped definition (which C's grammar cannot read) is still found."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher
    from tests.conftest import FakeEmbedder, write

    heap = ("/* Insert a node (see heap.c::insert). */\nHEAP_EXPORT(void heap_insert(struct heap* heap)) {\n"
            "  heap->n += 1;\n}\nstatic const char *name = \"a::b\";\n")
    write(tmp_path, "src/heap-inl.h", heap)
    write(tmp_path, "include/fmt/format.h", "namespace fmt {\n/* Formats. */\nint format_to(int out);\n}\n")
    write(tmp_path, "src/heap.c", "int heap_size(int n) {\n  return n;\n}\n")
    report = build_index(tmp_path, embedder=FakeEmbedder())
    assert report.files_by_language == {"c": 2, "cpp": 1}
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = {h.qualname: h.language for h in searcher.search("insert a node into the heap", k=10, language="c")}
        assert hits.get("heap_insert") == "c" and "fmt.format_to" not in hits
        (tmp_path / "src/heap-inl.h").write_text("\n" + heap)  # changed since indexing: parsed again, as C++
        moved = next(h for h in searcher.search("insert a node into the heap", k=10) if h.qualname == "heap_insert")
        assert moved.stale and moved.start_line == 3 and moved.language == "c"


def test_zig_containers_methods_and_tests() -> None:
    """`const X = struct {...}` is a type whose functions are methods; enums, error sets and test blocks too."""
    code = (
        "//! File doc.\nconst std = @import(\"std\");\n\n/// A point.\npub const Point = struct {\n    x: i32,\n"
        "    /// Adds.\n    pub fn add(self: Point, o: Point) Point {\n        return o;\n    }\n"
        "    const Axis = enum { x, y };\n};\n/// Fails.\nconst Err = error{Oops};\nextern fn ext() void;\n"
        "pub fn main() !void {}\ntest \"adds points\" {}\n"
    )
    syms = {q.removeprefix("x."): s for q, s in symbols_of("zig", code).items()}  # the file `x.zig` is struct x
    assert syms["Point"].kind is SymbolKind.TYPE and syms["Point"].doc == "A point."
    assert syms["Point.add"].kind is SymbolKind.METHOD and syms["Point.add"].doc == "Adds."
    assert syms["Point.Axis"].kind is SymbolKind.ENUM and syms["Err"].kind is SymbolKind.ENUM
    assert syms["Err"].doc == "Fails." and "ext" not in syms and "std" not in syms
    assert syms["main"].kind is SymbolKind.FUNCTION and syms["main"].doc == ""
    assert syms["adds points"].kind is SymbolKind.FUNCTION and syms["adds points"].signature == 'test "adds points"'


def test_tests_inside_rust_and_zig_source_files_are_told_apart_from_the_code() -> None:
    """Rust's `#[cfg(test)] mod tests` and Zig's `test "..." {}` live in the file they test; the names and
    signatures the parser gives them are what the registry's test rule reads (search demotes them)."""
    rust = symbols_of("rust", "pub fn checkout() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n"
                              "    fn checkout_reuses_idle() { super::checkout(); }\n}\n")
    zig = symbols_of("zig", "pub fn parse() void {}\ntest \"parse twice\" {\n    parse();\n}\n")
    verdicts = {(language, s.qualname): is_test_definition(language, s.kind.value, s.qualname, s.signature)
                for language, syms in (("rust", rust), ("zig", zig)) for s in syms.values()}
    assert verdicts == {("rust", "checkout"): False, ("rust", "tests"): True,
                        ("rust", "tests.checkout_reuses_idle"): True, ("zig", "x.parse"): False,
                        ("zig", "x.parse twice"): True}


def test_a_macro_alone_on_its_line_is_read_past() -> None:
    """A macro the grammar cannot expand, alone on its line (a namespace opener, a template declaration, an
    access specifier, a pragma call), no longer swallows the definitions after it; a doc above it is the next
    definition's; an upper-case name inside an expression or an argument list is left as it is."""
    code = (
        "FMT_PRAGMA_CLANG(diagnostic error \"-Wreturn-stack-address\")\n\nFMT_BEGIN_NAMESPACE\n"
        "namespace detail {\n\n/// Iterates over a value.\nJSON_TPL_DECLARATION\nclass iter_impl {\n"
        "  public:\n    int key() const { return 1; }\n  JSON_PRIVATE_UNLESS_TESTED:\n"
        "    int value() const { return 2; }\n};\n\n}  // namespace detail\nFMT_END_NAMESPACE\n"
        "int total() {\n  return sum(1,\n      MAX_VALUE\n      );\n}\n"
    )
    syms = symbols_of("cpp", code)
    assert list(syms) == ["detail.iter_impl", "detail.iter_impl.key", "detail.iter_impl.value", "total"]
    assert syms["detail.iter_impl"].doc == "Iterates over a value."
    assert syms["total"].code.count("MAX_VALUE") == 1  # read from the source as written
    c = "/* Runs it. */\nUV_EXPORT_API\nint uv_run(int mode) {\n  return mode;\n}\n"
    assert symbols_of("c", c)["uv_run"].doc == "Runs it."


def test_an_export_macro_between_class_and_its_name_is_read_past() -> None:
    """`class FMT_API format_error : public ...` and `struct JSON_API Value {` lost the class (the macro read
    as its name); a struct variable of a macro-named type is left as it is."""
    code = ("class FMT_API format_error : public std::runtime_error {\n public:\n  int code() const { return 1; }\n};\n"
            "struct JSON_API Value {\n  int get() const { return 1; }\n};\n"
            "class Q_CORE_EXPORT QObject final {\n  void f() {}\n};\n"
            "class FOO_EXPORT Bar\n{\n  void g() {}\n};\n"
            "struct FOO_BAR x;\n")
    syms = symbols_of("cpp", code)
    assert {q: s.kind for q, s in syms.items()} == {
        "format_error": SymbolKind.CLASS, "format_error.code": SymbolKind.METHOD, "Value": SymbolKind.CLASS,
        "Value.get": SymbolKind.METHOD, "QObject": SymbolKind.CLASS, "QObject.f": SymbolKind.METHOD,
        "Bar": SymbolKind.CLASS, "Bar.g": SymbolKind.METHOD}
    assert syms["format_error"].code.startswith("class FMT_API format_error")  # stored as written


def test_macros_in_front_of_a_prototypes_type_are_read_past() -> None:
    """glm's `template<typename T> GLM_FUNC_DECL mat<4, 4, T, defaultp> ortho(...);` left no symbol in the
    whole header; a macro that is the return type itself (`MY_TYPE make_one(int x);`) stays."""
    code = ("namespace glm\n{\n\t/// Creates an orthographic matrix.\n\ttemplate<typename T>\n"
            "\tGLM_FUNC_DECL mat<4, 4, T, defaultp> ortho(\n\t\tT left, T right, T bottom, T top);\n\n"
            "\t/// The same, left-handed.\n\ttemplate<typename T>\n"
            "\tGLM_FUNC_DECL GLM_CONSTEXPR mat<4, 4, T, defaultp> orthoLH(\n\t\tT left, T right);\n\n"
            "\t/** Makes one. */\n\tMY_TYPE make_one(int x);\n}\n")
    syms = symbols_of("cpp", code)
    assert {q: s.doc for q, s in syms.items()} == {"glm.ortho": "Creates an orthographic matrix.",
                                                  "glm.orthoLH": "The same, left-handed.",
                                                  "glm.make_one": "Makes one."}
    assert "GLM_FUNC_DECL mat<4, 4, T, defaultp> ortho(" in syms["glm.ortho"].code  # stored as written


def test_a_specifier_macro_after_the_parameters_is_read_past() -> None:
    """`size_type size() const BOOST_NOEXCEPT {` was lost (ASIO_NOEXCEPT, Q_DECL_OVERRIDE alike); a constant
    cast in an expression (`(int) MAX_VALUE;`) is no such macro and is left as it is."""
    code = ("template<class Ch> class basic_string_view\n{\npublic:\n"
            "    BOOST_CONSTEXPR basic_string_view() BOOST_NOEXCEPT: p_(), n_()\n    {\n    }\n\n"
            "    /// The length.\n    BOOST_CONSTEXPR size_type size() const BOOST_NOEXCEPT\n"
            "    {\n        return n_;\n    }\n\n"
            "    /// The first character.\n    BOOST_CONSTEXPR const_reference front() const BOOST_NOEXCEPT\n    {\n"
            "        return p_[ 0 ];\n    }\n};\nint limit() { return (int) MAX_VALUE; }\n")
    syms = symbols_of("cpp", code)
    assert {q: s.doc for q, s in syms.items() if s.kind is SymbolKind.METHOD} == {
        "basic_string_view.size": "The length.", "basic_string_view.front": "The first character."}
    assert "(int) MAX_VALUE" in syms["limit"].code


def test_a_documented_prototype_inside_the_include_guard_is_a_definition() -> None:
    """The include guard is the whole header: a documented prototype at its top level is a definition,
    while one inside any other preprocessor conditional is not (internal headers' section comments)."""
    code = ("#ifndef UV_IDNA_H_\n#define UV_IDNA_H_\n\n/* Convert a domain name to IDNA. */\n"
            "ssize_t uv__idna_toascii(const char* s);\n\n#ifdef _WIN32\n/* Windows only. */\n"
            "int uv__win_only(void);\n#endif\n\n#endif\n")
    syms = symbols_of("cpp", code)
    assert list(syms) == ["uv__idna_toascii"] and syms["uv__idna_toascii"].doc == "Convert a domain name to IDNA."
    not_a_guard = code.replace("#define UV_IDNA_H_", "#define SOMETHING_ELSE")
    assert symbols_of("cpp", not_a_guard) == {}


def test_documented_prototypes_are_definitions_undocumented_ones_are_not() -> None:
    """A C or C++ header documents its API on prototypes (export macros around them included); a
    prototype without a doc comment right above it, or one inside a function, is not a definition."""
    c = ("/* Constructs a new parser. */\nXMLPARSEAPI(XML_Parser)\nXML_ParserCreate(const XML_Char *encoding);\n\n"
         "#ifdef __cplusplus\nextern \"C\" {\n#endif\n/* Runs the loop. */\nUV_EXTERN int uv_loop(uv_loop_t*, int mode);\n"
         "int undocumented(void);\nstruct s; /* fwd */\nint later(void);\n"
         "void f(void) {\n  /* local */\n  int g(int);\n}\n")
    syms = symbols_of("c", c)
    assert list(syms) == ["XML_ParserCreate", "uv_loop", "f"]
    assert syms["XML_ParserCreate"].doc == "Constructs a new parser." and syms["uv_loop"].doc == "Runs the loop."
    cpp = ("namespace beast {\n/** Read part of a message.\n\n    @param s The stream.\n*/\ntemplate<class S>\n"
           "std::size_t\nread_some(S& s);\n\nint plain(int);\nclass A {\n  /** Member. */\n  void m();\n};\n}\n")
    syms = symbols_of("cpp", cpp)
    assert list(syms) == ["beast.read_some", "beast.A"]
    assert syms["beast.read_some"].doc == "Read part of a message.\n\n@param s The stream."
    assert (syms["beast.read_some"].start_line, syms["beast.read_some"].end_line) == (6, 8)


def test_rust_items_wrapped_by_a_macro_are_definitions_where_they_parse_as_items() -> None:
    """tokio wraps its API in `cfg_io_util! { ... }`: the trait and its methods inside are definitions
    (in an impl too); a macro whose braces are not items (`bitflags!`) stays as it is."""
    code = ("cfg_io_util! {\n    /// Writes bytes.\n    pub trait AsyncWriteExt: AsyncWrite {\n"
            "        /// Writes a buffer.\n        fn write(&mut self, src: &[u8]) -> Write<Self> { write(self, src) }\n"
            "    }\n}\nimpl Foo {\n    cfg_rt! {\n        pub fn spawn(&self) {}\n    }\n}\n"
            "bitflags! {\n    struct Flags: u32 { const A = 1; }\n}\n")
    syms = symbols_of("rust", code)
    assert list(syms) == ["AsyncWriteExt", "AsyncWriteExt.write", "Foo.spawn"]
    assert syms["AsyncWriteExt"].kind is SymbolKind.TRAIT and syms["AsyncWriteExt"].doc == "Writes bytes."
    assert (syms["AsyncWriteExt.write"].start_line, syms["AsyncWriteExt.write"].doc) == (5, "Writes a buffer.")
    assert syms["Foo.spawn"].kind is SymbolKind.METHOD and syms["Foo.spawn"].code.strip() == "pub fn spawn(&self) {}"


def test_cpp_macros_before_classes_and_out_of_line_definitions_and_as_try_and_catch() -> None:
    """nlohmann/json and CLI11 (a black-box review): a macro alone on its line under a doc comment's `*/` before
    `class basic_json`, `JSON_TRY` / `JSON_CATCH (...)` as try and catch (the grammar ended the class 3,200 lines
    early), and `CLI11_INLINE` before an out-of-line definition (`void App::parse` was `void.parse`; on its own line,
    after a template's parameters; a constructor `CLI11_INLINE Validator::Validator()` was no definition)."""
    code = (
        "/*!\n@brief a JSON value\n*/\nNLOHMANN_BASIC_JSON_TPL_DECLARATION\nclass basic_json\n{\n  public:\n"
        "    reference at(size_type idx)\n    {\n        JSON_TRY\n        {\n            return m_value.at(idx);\n"
        "        }\n        JSON_CATCH (std::out_of_range&)\n        {\n            JSON_THROW(out_of_range(401));\n"
        "        }\n    }\n\n    string_t dump(const int indent = -1) const\n    {\n        return s;\n    }\n};\n\n"
        "CLI11_INLINE void App::parse(int argc, const char *const *argv) { parse_char_t(argc, argv); }\n\n"
        "template <class CharT> CLI11_INLINE void App::parse_char_t(int argc, const CharT *const *argv) {\n}\n\n"
        "CLI11_INLINE bool\nApp::_parse_arg(std::vector<std::string> &args) {\n    return true;\n}\n\n"
        "CLI11_INLINE std::string\nconvert_arg_for_ini(const std::string &arg) {\n    return arg;\n}\n\n"
        "CLI11_INLINE ExistingFileValidator::ExistingFileValidator() : Validator(\"FILE\") {\n}\n"
    )
    syms = symbols_of("cpp", code)
    assert syms["basic_json"].kind is SymbolKind.CLASS and syms["basic_json"].end_line == 24
    assert syms["basic_json.at"].kind is SymbolKind.METHOD and syms["basic_json.dump"].kind is SymbolKind.METHOD
    for name in ("App.parse", "App.parse_char_t", "App._parse_arg", "ExistingFileValidator.ExistingFileValidator"):
        assert syms[name].kind is SymbolKind.METHOD, (name, sorted(syms))
    assert syms["convert_arg_for_ini"].kind is SymbolKind.FUNCTION


def test_cpp_definitions_out_of_their_class_are_named_in_their_namespace() -> None:
    """CLI11: `CLI.App.require_subcommand` in the class, `App.require_subcommand` out of it in `namespace CLI`."""
    code = ("namespace CLI {\nclass App {\n  int size() { return 1; }\n};\nvoid App::require_subcommand() {\n}\n"
            "namespace detail {\nvoid helper() {}\n}\n}\nvoid Free::thing() {}\n")
    syms = symbols_of("cpp", code)
    assert syms["CLI.App.size"].kind is SymbolKind.METHOD
    assert syms["CLI.App.require_subcommand"].kind is SymbolKind.METHOD
    assert "CLI.detail.helper" in syms and "Free.thing" in syms


def test_cpp_googletest_tests_annotations_and_macro_statements() -> None:
    """A new user on googletest: its 320 `TEST(Suite, Name)` were all named `TEST`; 101 functions were named after a
    thread-safety annotation after their parameters (`GTEST_LOCK_EXCLUDED_(mutex_)`, on the next line, after `const`
    or `override`); and a macro called as a statement (`GMOCK_DEFINE_DEFAULT_ACTION_FOR_RETURN_TYPE_(bool, false);`)
    took the next 300 lines into a function named after it, their namespace lost."""
    code = (
        "namespace testing {\n#define DEFINE_FOR_(type, value) \\\n  template <> class Default<type> {}\n"
        "DEFINE_FOR_(void, );  // NOLINT\nGTEST_API_ GTEST_DEFINE_STATIC_MUTEX_(g_mutex);\n"
        "class DefaultValue {\n public:\n  static void Set(int x) { }\n};\n"
        "// Verifies and clears.\nbool Mock::VerifyLocked(void* mock)\n    GTEST_EXCLUSIVE_LOCK_REQUIRED_(g_mutex) {\n"
        "  return true;\n}\nclass M {\n  ~M() override GTEST_LOCK_EXCLUDED_(g_mutex) { }\n"
        "  int* Find(const int& args)\n      const GTEST_EXCLUSIVE_LOCK_REQUIRED_(g_mutex) {\n    return nullptr;\n  }\n"
        "  void Lock() ABSL_LOCKS_EXCLUDED(mu_) { if (x) LOG_ERROR(x); else y(); }\n};\n"
        "// Checks colors.\nTEST(GTestColorTest, BehavesCorrectly) {\n  EXPECT_TRUE(ShouldUseColor(true));\n}\n"
        "TYPED_TEST_P(ParamTest, Works) { y(); }\nint TESTER(Foo a, Bar b) { return 1; }\n}\n")
    symbols = extract_symbols(SourceFile("x_test.cc", "cpp", code.encode()))
    assert [(s.qualname, s.start_line, s.doc) for s in symbols if s.kind is not SymbolKind.CLASS] == [
        ("testing.DEFINE_FOR_", 2, ""), ("testing.DefaultValue.Set", 8, ""),
        ("testing.Mock.VerifyLocked", 11, "Verifies and clears."), ("testing.M.~M", 16, ""),
        ("testing.M.Find", 17, ""), ("testing.M.Lock", 21, ""),
        ("testing.GTestColorTest.BehavesCorrectly", 24, "Checks colors."), ("testing.ParamTest.Works", 27, ""),
        ("testing.TESTER", 28, "")]
    assert {s.qualname for s in symbols if s.kind is SymbolKind.CLASS} == {"testing.DefaultValue", "testing.M"}


def test_c_and_cpp_two_heads_of_one_function_in_a_conditional_are_read_as_the_first() -> None:
    """googletest's `#if ...` `TEST(ComparisonBaseTest, DISABLED_WorksWithMoveOnly) {` `#else` `TEST(...,
    WorksWithMoveOnly) {` `#endif` made one function of the 1,347 lines after it (111 tests unscoped, later
    definitions nested in it); a `main` with a head per platform the same. Only a conditional whose every branch is
    one line opening a block is read so; others are the grammar's, as before."""
    code = ("namespace t {\n#if GTEST_HAS_X\nTEST(ComparisonBaseTest, DISABLED_WorksWithMoveOnly) {\n#else\n"
            "TEST(ComparisonBaseTest, WorksWithMoveOnly) {\n#endif\n  y();\n}\n"
            "TEST(IsNullTest, MatchesNullPointer) { z(); }\n#ifdef _WIN32\nint main(int argc, wchar_t **argv) {\n"
            "#elif defined(X)\nint main(int argc, char **argv) {  // posix\n#else\nint main(void) {\n#endif\n"
            "  return 0;\n}\n#if A\nint f(void) { return 1; }\n#else\nint f(void) { return 2; }\n#endif\n}\n")
    symbols = extract_symbols(SourceFile("x_test.cc", "cpp", code.encode()))
    assert [(s.qualname, s.start_line, s.end_line) for s in symbols] == [
        ("t.ComparisonBaseTest.DISABLED_WorksWithMoveOnly", 3, 8), ("t.IsNullTest.MatchesNullPointer", 9, 9),
        ("t.main", 11, 18), ("t.f", 20, 20), ("t.f", 22, 22)]
    c_code = "#ifdef _WIN32\nint main(int argc, wchar_t **argv) {\n#else\nint main(int argc, char **argv) {\n#endif\n" \
             "  return 0;\n}\nstatic int after(void) { return 1; }\n"
    assert [(s.qualname, s.start_line) for s in extract_symbols(SourceFile("m.c", "c", c_code.encode()))] == [
        ("main", 2), ("after", 8)]


def test_zig_a_file_is_a_struct_named_by_its_stem() -> None:
    """A new user on Zig's standard library: `Uri.zig`'s `parse` and `SemanticVersion.zig`'s `parse` were both
    `parse` (`related --symbol Uri.parse`: no definition; `--symbol parse`: two), as no caller writes them."""
    code = "const Uri = @This();\nscheme: []const u8,\n/// Parses a URI.\npub fn parse(text: []const u8) !Uri {\n" \
           "    return .{ .scheme = text };\n}\nconst Component = union(enum) {\n    raw: []const u8,\n" \
           "    pub fn isEmpty(c: Component) bool { return false; }\n};\n"
    symbols = extract_symbols(SourceFile("lib/std/Uri.zig", "zig", code.encode()))
    assert [(s.qualname, s.kind, s.doc) for s in symbols] == [
        ("Uri.parse", SymbolKind.FUNCTION, "Parses a URI."), ("Uri.Component", SymbolKind.TYPE, ""),
        ("Uri.Component.isEmpty", SymbolKind.METHOD, "")]
