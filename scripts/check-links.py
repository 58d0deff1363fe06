#!/usr/bin/env python3
"""Fails on a relative link in README.md or docs/*.md that does not resolve.

A link resolves when its file exists, relative to the page that holds it, and its
anchor (`#…`), if any, is a heading of the target page, spelled as GitHub spells it.
Links in code blocks and code spans are not links. Web links are not checked.

    scripts/check-links.py            check README.md and docs/*.md
    scripts/check-links.py PAGE...    check those pages
"""
import os
import pathlib
import re
import sys

LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text):
    """The page's lines outside fenced code blocks, code spans blanked."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, re.sub(r"`[^`]*`", "``", line)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every anchor of a page, with GitHub's -1, -2 … for repeated headings."""
    seen, found = {}, set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def shown(page):
    return os.path.relpath(page)


def broken(page):
    """The links of `page` that do not resolve, as `page:line: link (why)`."""
    problems = []
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            file_part, _, anchor = target.partition("#")
            path = (page.parent / file_part).resolve() if file_part else page.resolve()
            if not path.exists():
                problems.append(f"{shown(page)}:{number}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                problems.append(f"{shown(page)}:{number}: {target} (no heading #{anchor} in {file_part or page.name})")
    return problems


def main(argv):
    root = pathlib.Path(__file__).resolve().parent.parent
    pages = [pathlib.Path(p) for p in argv[1:]] or [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    problems = [problem for page in pages for problem in broken(page)]
    for problem in problems:
        print(f"check-links: {problem}", file=sys.stderr)
    if not problems:
        print(f"check-links: every relative link of {len(pages)} page(s) resolves")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
