"""``kgrec data fetch movielens``: the public originals of the source folder, checked by sha256.

Each file is downloaded into a temporary file, checked, and only then moved into place, so a
failed or tampered download leaves nothing half-written. Files already present with the right
checksum are not downloaded again. ``base_url`` (``--base-url`` / ``KGREC_FETCH_BASE_URL``) points
at a mirror holding each file at ``<base>/<host>/<path>`` of its public URL.

The checksums are those of ``../shared/data/*/PROVENANCE.md``. HetRec's are of the files with LF
line endings (the upstream zip most likely has CRLF), so HetRec members are compared after CRLF ->
LF. The complete HetRec ``movie_actors.dat`` has no published checksum: it is kept, and its sha256
printed, as "unverified". The TMDB-derived files are not downloadable from Kaggle without an
account; they come from the public GitHub copies named in movie-text/PROVENANCE.md.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

GROUPLENS = "https://files.grouplens.org/datasets"
RAW = "https://raw.githubusercontent.com"
TIMEOUT_S = 60


class FetchError(RuntimeError):
    """A download failed or did not match its checksum; nothing was written for that file."""


@dataclass(frozen=True)
class Remote:
    """One file of the source layout: where it comes from and what it must hash to."""

    dest: str  # path under the destination folder
    url: str
    sha256: str | None  # None: no published checksum (kept and reported as unverified)
    member: str | None = None  # the file inside the zip at ``url``
    crlf_to_lf: bool = False
    optional: bool = False  # absent from some copies of the archive: skipped when missing


def _ml(name: str, sha: str) -> Remote:
    return Remote(f"ml-latest-small/{name}", f"{GROUPLENS}/movielens/ml-latest-small.zip", sha,
                  member=f"ml-latest-small/{name}")


def _hetrec(name: str, sha: str | None, optional: bool = False) -> Remote:
    return Remote(f"hetrec2011-movielens-2k/{name}", f"{GROUPLENS}/hetrec2011/hetrec2011-movielens-2k-v2.zip", sha,
                  member=name, crlf_to_lf=True, optional=optional)


MOVIELENS: tuple[Remote, ...] = (
    _ml("README.txt", "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404"),
    _ml("links.csv", "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31"),
    _ml("movies.csv", "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07"),
    _ml("ratings.csv", "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"),
    _ml("tags.csv", "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d"),
    _hetrec("readme.txt", "af891994977140aff49ede2658effbec494dd372f3194652ebe458d0d664e0e5"),
    _hetrec("movies.dat", "8c9a7ea36bfde2e426fa658ad9eff12930a91099ce43d2401d56bc0d784e230e"),
    _hetrec("movie_genres.dat", "c2eaa3088b1136135c0fac9c25c6a3c85b9ec8db71c6e503aafdf00f0d36c6fc"),
    _hetrec("movie_directors.dat", "375401091cc4ead6fe745d480735221fb53cb4a960c9fc29f2c1adfdf296e382"),
    _hetrec("movie_countries.dat", "020c2848c50d372a7cb3c2025e27523a010a4afc97063f26c2ff254978acb703"),
    _hetrec("movie_locations.dat", "c245cdd133dce0baa05d91481520c87189449ad3228405e4309e956e920a5fd3"),
    _hetrec("tags.dat", "d9b9cb07ad7d9c9c09185c4347d400a87a329325a6ae88457dffade90701c694"),
    _hetrec("movie_tags.dat", "ce4aa8a256fbdf8d20ee2c6abc3a4bc937eb544558cb0788cc5889fef6100dc5"),
    _hetrec("user_taggedmovies-timestamps.dat", "1e0933d6e2ac63b0f8ed55b08f8281ac625a6a89af430e4a2fc3f1f38885ae98"),
    _hetrec("movie_actors.dat", None, optional=True),
    Remote("movie-cast/movies.csv",
           f"{RAW}/tomasonjo/blog-datasets/c92dfc6f7e3cbeb11c93c1acc8941a2f5f11ddac/movies/movies.csv",
           "ea63afa6ea50e4782e65471ae54a504212c27da707224859296dda29bed67653"),
    Remote("movie-text/tmdb_5000_movies.csv",
           f"{RAW}/Harsh4222/content-based-movie-recommendation-system/8d227a41095d1a26de9e678be6159e0da839e7f8/"
           "tmdb_5000_movies.csv.zip",
           "1e0584a8dd374120e4ed4f2b81f0d2bd0eb95a554708e4a350d00ed5c46d2825", member="tmdb_5000_movies.csv"),
    Remote("movie-text/top10K-TMDB-movies.csv",
           f"{RAW}/vartika51/recommender-system/4ac72314699c3507bb1c4136409f636d845acf36/top10K-TMDB-movies.csv",
           "8063d84a6a4e5287ab1a52f9d2d01b0f1eded24511e789b5a98b93063de0e657"),
)


class MissingMember(FetchError):
    """The archive lacks a file."""


def mirror_url(url: str, base_url: str | None) -> str:
    """``https://host/path`` -> ``<base>/host/path`` when a mirror is given."""
    if not base_url:
        return url
    parts = urllib.parse.urlsplit(url)
    return f"{base_url.rstrip('/')}/{parts.netloc}{parts.path}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {reason} (no internet? use --base-url for a mirror)") from None


def _member(archive: bytes, name: str, url: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = zf.namelist()
            # accept the member at the top level or under one folder (zips differ on that)
            match = next((n for n in names if n == name or n.endswith("/" + name)), None)
            if match is None:
                raise MissingMember(f"{url}: the archive has no {name} (it has {', '.join(names[:10])} …)")
            return zf.read(match)
    except zipfile.BadZipFile:
        raise FetchError(f"{url}: not a zip archive") from None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch(files: tuple[Remote, ...], dest: Path, base_url: str | None = None) -> list[str]:
    """Fetch ``files`` into ``dest``; returns one line per file. Raises FetchError on the first failure
    (files fetched before it stay, checked; a re-run continues where it stopped)."""
    lines: list[str] = []
    downloads: dict[str, bytes] = {}  # one download per archive URL
    for remote in files:
        target = dest / remote.dest
        if remote.sha256 and target.is_file() and sha256(target.read_bytes()) == remote.sha256:
            lines.append(f"ok (already present)  {remote.dest}")
            continue
        url = mirror_url(remote.url, base_url)
        if url not in downloads:
            downloads[url] = _download(url)
        try:
            data = _member(downloads[url], remote.member, url) if remote.member else downloads[url]
        except MissingMember:
            if not remote.optional:
                raise
            lines.append(f"skipped (not in this archive)  {remote.dest}")
            continue
        if remote.crlf_to_lf:
            data = data.replace(b"\r\n", b"\n")
        digest = sha256(data)
        if remote.sha256 is None:
            _write_atomically(target, data)
            lines.append(f"UNVERIFIED (no published checksum, sha256 {digest})  {remote.dest}")
            continue
        if digest != remote.sha256:
            raise FetchError(f"{remote.dest} from {url}: sha256 {digest} does not match the expected "
                             f"{remote.sha256}; the file was not written")
        _write_atomically(target, data)
        lines.append(f"ok (sha256 verified)  {remote.dest}")
    return lines


def fetch_movielens(dest: Path, base_url: str | None = None) -> list[str]:
    return fetch(MOVIELENS, dest, base_url)
