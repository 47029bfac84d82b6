"""`kgrec data fetch movielens` against a local HTTP mirror the test builds from ../shared/data
(these machines reach no other host): checksums verified, a tampered file rejected and not written. Only
the tests that use the mirror need ../shared/data."""
from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import SHARED_DATA
from kgrec.cli import main
from kgrec.ingest.fetch import MOVIELENS, FetchError, fetch_movielens, sha256

def mirror_path(root: Path, url: str) -> Path:
    parts = urlsplit(url)
    return root / parts.netloc / parts.path.lstrip("/")


def build_mirror(root: Path, crlf_hetrec: bool = True) -> None:
    """The publishers' files, as the mirror layout expects them, made from the shared copies."""
    archives: dict[str, list] = {}
    for remote in MOVIELENS:
        source = SHARED_DATA / remote.dest
        if not source.is_file():
            continue  # movie_actors.dat: only the partial file is here
        if remote.member:
            archives.setdefault(remote.url, []).append((remote.member, source, remote.crlf_to_lf))
        else:
            target = mirror_path(root, remote.url)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    for url, members in archives.items():
        target = mirror_path(root, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, source, crlf in members:
                data = source.read_bytes()
                # HetRec's upstream zip has CRLF line endings: the mirror does too
                zf.writestr(member, data.replace(b"\n", b"\r\n") if crlf and crlf_hetrec else data)


@pytest.fixture()
def mirror(shared_data: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A local HTTP mirror of the publishers' files (skipped, or with CI=true failed, without the shared data)."""
    root = tmp_path / "www"
    build_mirror(root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_builds_the_source_layout_with_verified_checksums(mirror, tmp_path: Path, capsys, monkeypatch):
    root, base = mirror
    dest = tmp_path / "data"
    monkeypatch.setenv("KGREC_FETCH_BASE_URL", base)
    assert main(["data", "fetch", "movielens", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    for remote in MOVIELENS:
        if remote.sha256:
            assert sha256((dest / remote.dest).read_bytes()) == remote.sha256
            assert (dest / remote.dest).read_bytes() == (SHARED_DATA / remote.dest).read_bytes()
    assert "skipped (not in this archive)  hetrec2011-movielens-2k/movie_actors.dat" in out
    assert out.count("ok (sha256 verified)") == sum(1 for r in MOVIELENS if r.sha256)
    # a second fetch downloads nothing: every file is present and verified
    lines = fetch_movielens(dest, base_url=base)
    assert all(line.startswith(("ok (already present)", "skipped")) for line in lines)


def test_a_tampered_file_is_refused_and_not_written(mirror, tmp_path: Path):
    root, base = mirror
    remote = next(r for r in MOVIELENS if r.dest == "movie-cast/movies.csv")
    target = mirror_path(root, remote.url)
    target.write_bytes(target.read_bytes().replace(b"David Fincher", b"Akira Kurosawa"))
    dest = tmp_path / "data"
    with pytest.raises(FetchError, match="movie-cast/movies.csv .* does not match"):
        fetch_movielens(dest, base_url=base)
    assert not (dest / "movie-cast").exists() or not any((dest / "movie-cast").iterdir())
    assert (dest / "ml-latest-small" / "ratings.csv").is_file()  # files before it are kept, verified


def test_an_unreachable_mirror_is_a_clear_error(tmp_path: Path, capsys):
    code = main(["data", "fetch", "movielens", "--dest", str(tmp_path / "d"), "--base-url", "http://127.0.0.1:9"])
    assert code == 1
    assert "127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
