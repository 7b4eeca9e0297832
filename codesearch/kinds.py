"""The kinds of chunk a search can be limited to (``--kind``, MCP ``kind``): the values of
``indexer.types.SymbolKind``, written out so that the console script's fast path imports nothing
to check them (``tests/test_mcp.py`` compares the two)."""

KINDS = ("function", "method", "class", "interface", "module", "trait", "enum", "type", "code")
