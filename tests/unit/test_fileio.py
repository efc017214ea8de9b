"""fileio.atomic_write: a failed or killed write never damages the file that was there before."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys

import pytest

from llmscratch.fileio import atomic_write, sha256_file


def test_writes_bytes_and_text(tmp_path):
    with atomic_write(tmp_path / "a.bin") as f:
        f.write(b"\x00\x01")
    with atomic_write(tmp_path / "sub" / "b.txt", "w", encoding="utf-8") as f:
        f.write("héllo")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "sub"]


def test_exception_keeps_the_old_file_and_leaves_no_debris(tmp_path):
    target = tmp_path / "ckpt.bin"
    target.write_bytes(b"old and complete")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write(b"new but half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old and complete"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.bin"]


def test_process_killed_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "ckpt.bin"
    target.write_bytes(b"old and complete")
    script = (
        "import sys, time\n"
        "from llmscratch.fileio import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'x' * 1000); f.flush(); print('writing', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert target.read_bytes() == b"old and complete"
    # the killed writer leaves only its hidden .part file, never a damaged target
    assert all(p.name == "ckpt.bin" or p.name.endswith(".part") for p in tmp_path.iterdir())


def test_rejects_append_and_read_modes(tmp_path):
    with (
        pytest.raises(ValueError, match="mode must be 'w' or 'wb', got 'ab'"),
        atomic_write(tmp_path / "x", "ab"),
    ):
        pass


def test_sha256_file(tmp_path):
    data = os.urandom(3_000_000)
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f", chunk=1 << 16) == hashlib.sha256(data).hexdigest()


def test_saved_file_gets_the_usual_permissions(tmp_path):
    with atomic_write(tmp_path / "x.txt", "w") as f:
        f.write("x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path):
    """A SIGKILLed save leaves its .part; the next save of the same file deletes it (not a live writer's)."""
    from llmscratch.fileio import LEGACY_PART_AGE_S, remove_stale_parts

    target = tmp_path / "ckpt.bin"
    script = (
        "import sys, time\n"
        "from llmscratch.fileio import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'x' * 1000); f.flush(); print('writing', flush=True); time.sleep(60)\n"
    )
    killed = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE)
    live = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "other.bin")], stdout=subprocess.PIPE
    )
    try:
        assert killed.stdout.readline().strip() == b"writing" and live.stdout.readline().strip() == b"writing"
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        leftover = [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.bin.")]
        assert len(leftover) == 1 and f"-{killed.pid}-" in leftover[0].name
        legacy_old, legacy_new = tmp_path / ".ckpt.bin.abc123.part", tmp_path / ".ckpt.bin.def456.part"
        legacy_old.write_bytes(b"old")
        legacy_new.write_bytes(b"new")
        os.utime(legacy_old, (0, 0))
        live_part = [p for p in tmp_path.iterdir() if p.name.startswith(".other.bin.")]
        assert remove_stale_parts(tmp_path / "other.bin") == []  # its writer is still running
        with atomic_write(target) as f:
            f.write(b"complete")
        assert target.read_bytes() == b"complete"
        assert not leftover[0].exists() and not legacy_old.exists()
        assert legacy_new.exists(), (
            f"a recent part in the old format may still be written (< {LEGACY_PART_AGE_S} s)"
        )
        assert all(p.exists() for p in live_part)
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
