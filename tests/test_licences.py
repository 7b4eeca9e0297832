"""Licence paragraphs in comments: told apart from a file's description, and left out of what is embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.chunk import chunks_for_file, embedding_text
from indexer.licences import comment_words, without_licences
from indexer.types import SourceFile, SymbolKind

SNIFF = """<?php
/**
 * Checks for unused function parameters.
 *
 * This sniff checks that all function parameters are used in the function body.
 *
 * @author    Manuel Pichler <mapi@manuel-pichler.de>
 * @copyright 2007-2014 Manuel Pichler. All rights reserved.
 * @license   https://github.com/squizlabs/PHP_CodeSniffer/blob/master/licence.txt BSD Licence
 */

namespace PHP_CodeSniffer\\Standards\\Generic\\Sniffs\\CodeAnalysis;

use PHP_CodeSniffer\\Files\\File;

class UnusedFunctionParameterSniff
{
    public function register()
    {
        return [T_FUNCTION];
    }
}
"""
APACHE = """/*
 * Licensed to the Apache Software Foundation (ASF) under one or more
 * contributor license agreements.  See the NOTICE file distributed with
 * this work for additional information regarding copyright ownership.
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS.
 */
package org.apache.commons.compress.archivers.tar;

import java.io.IOException;

public class TarFile {
}
"""


def test_licence_paragraphs_are_left_out_and_the_description_kept() -> None:
    kept = without_licences(SNIFF)
    assert "Checks for unused function parameters." in kept and "all function parameters are used" in kept
    assert "@copyright" not in kept and "@license" not in kept and "Pichler" not in kept
    assert "namespace PHP_CodeSniffer" in kept and "return [T_FUNCTION];" in kept
    apache = without_licences(APACHE)
    assert "Apache Software Foundation" not in apache and "AS IS" not in apache
    assert "package org.apache.commons.compress.archivers.tar;" in apache and "import java.io.IOException;" in apache
    code = "def f():\n    # Add one.\n    return 1\n"
    assert without_licences(code) is code  # nothing to leave out: the same string
    assert comment_words(SNIFF) == 18 and comment_words(APACHE) == 0


def test_a_files_opening_is_embedded_without_its_licence_and_shown_with_it() -> None:
    """The code between definitions is embedded and counted without its licence paragraphs: PHP_CodeSniffer's
    UnusedFunctionParameterSniff.php opening had a cosine of 0.21 with "warn about function arguments that are
    never used in the body" (0.25 without its licence, 0.42 for its description alone), its authors, copyright and
    licence URL making much of what was embedded, and was not found. It is still shown as written, and an opening
    that is nothing but a licence is embedded as it is."""
    from codesearch.embed.static import StaticEmbedder

    def opening(source: str, path: str):  # type: ignore[no-untyped-def]
        language = {"php": "php", "java": "java"}[path.rsplit(".", 1)[1]]
        chunks = chunks_for_file(SourceFile(path, language, source.encode(), 0, 0))
        return next(c for c in chunks if c.kind == SymbolKind.CODE and c.start_line == 1)

    sniff = opening(SNIFF, "src/UnusedFunctionParameterSniff.php")
    assert "@copyright" in sniff.code and "@copyright" not in sniff.code_without_doc
    assert "@copyright" not in embedding_text(sniff)
    model = StaticEmbedder.default()
    query = model.encode_queries(["warn about function arguments that are never used in the body"])[0]
    embedded, as_written = model.encode_documents([embedding_text(sniff), sniff.code])
    cosine = lambda v: float(query @ v / np.linalg.norm(query) / np.linalg.norm(v))  # noqa: E731
    assert cosine(embedded) > cosine(as_written) + 0.05, (cosine(embedded), cosine(as_written))
    licence_only = opening(APACHE.split("package")[0] + "\nclass A {}\n", "A.java")
    assert licence_only.code_without_doc == licence_only.code


def test_the_description_finds_the_file_through_the_shipped_model(tmp_path: Path) -> None:
    """End to end, with the shipped model: the sniff's opening answers the question its description asks."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher

    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "UnusedFunctionParameterSniff.php").write_text(SNIFF)
    others = {"ArgumentSpacingSniff": "Checks the spacing between arguments of a function call.",
              "Config": "Stores the configuration used to run the checks, read from the command line arguments.",
              "DuplicateArgumentSniff": "Checks that duplicate arguments are not used in function declarations."}
    for name, doc in others.items():
        body = SNIFF.replace("UnusedFunctionParameterSniff", name).replace(
            "Checks for unused function parameters.\n *\n * This sniff checks that all function parameters are used in "
            "the function body.", doc)
        (root / "src" / f"{name}.php").write_text(body)
    build_index(root)
    with Searcher(root / ".codesearch") as searcher:
        top = searcher.search("warn about function arguments that are never used in the body", 3)
    assert top[0].path == "src/UnusedFunctionParameterSniff.php", [r.path for r in top]


def test_the_files_description_is_the_context_of_its_only_class_when_that_has_no_doc() -> None:
    """A PHP file describes its one class in the docblock above ``namespace`` (PEAR style), and the class has no
    doc of its own: the class and its members take the file's description as their context, as members of a
    documented class take its doc, so `process`, whose own doc is "Processes this test", embeds what the sniff is
    for. Not when the file has two top-level classes, nor over a class's own doc; licences are no description."""
    php = SNIFF.replace("    public function register()",
                        "    /** Processes this test. */\n    public function process()")
    chunks = chunks_for_file(SourceFile("src/UnusedFunctionParameterSniff.php", "php", php.encode(), 0, 0))
    by_name = {c.qualname: c for c in chunks}
    assert by_name["UnusedFunctionParameterSniff"].context == "Checks for unused function parameters."
    assert by_name["UnusedFunctionParameterSniff.process"].context == "Checks for unused function parameters."
    assert "Checks for unused function parameters." in embedding_text(by_name["UnusedFunctionParameterSniff.process"])
    two = php + "\nclass Other\n{\n    public function run()\n    {\n        return 1;\n    }\n}\n"
    chunks = chunks_for_file(SourceFile("src/Two.php", "php", two.encode(), 0, 0))
    assert all(c.context == "" for c in chunks)
    documented = php.replace("class UnusedFunctionParameterSniff",
                             "/** Its own doc. */\nclass UnusedFunctionParameterSniff")
    chunks = chunks_for_file(SourceFile("src/Doc.php", "php", documented.encode(), 0, 0))
    assert {c.context for c in chunks if c.kind == SymbolKind.METHOD} == {"Its own doc."}
    licensed = APACHE.replace("public class TarFile {\n}", "public class TarFile {\n    void read() {\n    }\n}")
    chunks = chunks_for_file(SourceFile("src/TarFile.java", "java", licensed.encode(), 0, 0))
    assert all(c.context == "" for c in chunks)
