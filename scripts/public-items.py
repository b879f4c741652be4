#!/usr/bin/env python3
"""Count the public API of a crate from its rustdoc HTML.

Usage: scripts/public-items.py target/doc/CRATE   (after `cargo doc -p CRATE --no-deps`)

Counts what a user of the crate can name and rustdoc documents (`#[doc(hidden)]`
items are not there): every item listed in `all.html` (structs, enums, traits,
functions, constants, type aliases, macros), plus the members on their pages:
inherent methods and associated items, struct fields, enum variants and trait
methods. Trait implementations (Clone, Debug, blanket impls) are not counted.
An item re-exported at several paths (the crate root and `prelude`) counts
once; a foreign item re-exported by name (`prelude::Value`) counts as an item
but its members are the other crate's. Whole crates re-exported with
`pub use` are listed separately.
"""

import os
import re
import sys


def members(page: str) -> int:
    # Inherent impls sit between these two markers; trait impls follow.
    start = page.find('id="implementations-list"')
    end = page.find('id="trait-implementations"')
    inherent = page[start:end] if start >= 0 else ""
    n = len(re.findall(r'id="(?:method|associatedconstant|associatedtype)\.', inherent))
    n += len(re.findall(r'id="(?:structfield|variant|tymethod|tyconst)\.', page))
    return n


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    with open(os.path.join(root, "all.html"), encoding="utf-8") as f:
        links = sorted(set(re.findall(r'<li><a href="([^"#]+)"', f.read())))
    total_members = 0
    seen = set()
    items = 0
    for link in links:
        # `struct.Server.html` at the root and in `prelude` is one item.
        name = os.path.basename(link)
        if name in seen:
            continue
        seen.add(name)
        items += 1
        with open(os.path.join(root, link), encoding="utf-8") as f:
            page = f.read()
        # Only pages of this crate's own items: an inlined foreign item's
        # source link points at the other crate.
        own = f"src/{os.path.basename(os.path.normpath(root))}/"
        if own in page:
            total_members += members(page)
    modules = sorted(
        os.path.relpath(d, root)
        for d, _, files in os.walk(root)
        if "index.html" in files and d != root
    )
    with open(os.path.join(root, "index.html"), encoding="utf-8") as f:
        uses = re.findall(r"<code>pub use (.*?);", f.read())
    # `pub use serde;` names a crate; `pub use builder::ServerBuilder;` an item.
    crates = [u for u in (re.sub(r"<[^>]*>", "", u) for u in uses) if "::" not in u]
    print(f"modules: {len(modules)} ({', '.join(modules)})")
    print(f"items: {items}")
    print(f"members (inherent methods, fields, variants, trait methods): {total_members}")
    print(f"items + members: {items + total_members}")
    print(f"whole crates re-exported: {len(crates)} ({', '.join(crates)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
