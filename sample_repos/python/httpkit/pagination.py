"""Walking paginated API collections."""


def iter_pages(client, path, page_size=100):
    """Yield every item of a paginated collection, following the ``next`` cursor."""
    cursor = None
    while True:
        params = {"limit": page_size}
        if cursor:
            params["cursor"] = cursor
        page = client.get_json(path, params=params)
        yield from page.get("items", [])
        cursor = page.get("next")
        if not cursor:
            return


def chunked(items, size):
    """Split a list into consecutive batches of at most ``size`` elements."""
    return [items[i : i + size] for i in range(0, len(items), size)]
