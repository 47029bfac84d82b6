"""A folder laid out like ``../shared/data`` -> a :class:`Plan`, with the cross-source rules applied.

Rules where sources overlap or disagree (the README's "Conflict rules" lists them for users):

* The catalogue is ``ml-latest-small/movies.csv``: its ids, titles, years and genres win. Rows of
  the other sources about movies outside it are skipped (counted, not rejected: those datasets
  cover larger catalogues on purpose). Rows of the MovieLens files themselves that name an unknown
  movie are rejects.
* HetRec people and countries are used only where HetRec's IMDb id equals ``links.csv``'s (about
  9% of HetRec's links point at another film). HetRec genres are not used (MovieLens' own are newer).
* Directors: union of movie-cast and HetRec. Actors: union too; the billing ``order`` comes from
  HetRec's IMDb ranking where it has one (movie-cast's position is not always billing order).
* Persons are identified by the slug of their name (``"Doris Dörrie"`` -> ``doris-dorrie``); the
  first source that names them (movie-cast, then HetRec) gives the display name.
* Countries: HetRec where its link agrees, else TMDB's production countries (names mapped to HetRec's).
* Text: the TMDB 5000 overview, else the top-10K overview; the tagline from TMDB 5000.
  Keywords and studios come from TMDB 5000 (joined through ``links.csv`` tmdbId).
* Tags: ``tags.csv`` keeps who/when (``TAGGED``); ``HAS_TAG.count`` adds those applications to
  HetRec's per-movie tag weights. HetRec's taggers are ML-10M users, another population than the
  610 users here, so they do not become ``User`` nodes.
* A duplicated rating (same user and movie) keeps the latest timestamp.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from kgrec.catalogue.schema import load as load_catalogue
from kgrec.ingest import names
from kgrec.ingest.plan import Plan
from kgrec.ingest.readers import (RowError, SourceError, Table, optional_int, parse_rows, require, split_list,
                                  to_float, to_int)
from kgrec.ingest.rejects import Rejects

ML, CAST, TEXT, HETREC = "ml-latest-small", "movie-cast", "movie-text", "hetrec2011-movielens-2k"
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{4}|[-–])?\)\s*$")
NO_GENRE = "(no genres listed)"
RATING_MIN, RATING_MAX = 0.5, 5.0
# TMDB production-country names -> the names HetRec (and so the graph) uses for the same country
TMDB_COUNTRY = {"United States of America": "USA", "United Kingdom": "UK"}


class MovieLensSource:
    """Parses one source folder; ``build()`` returns the plan."""

    def __init__(self, root: Path, rejects: Rejects):
        self.root = root
        self.rejects = rejects
        self.plan = Plan(load_catalogue("movies"))
        self.imdb: dict[int, int] = {}  # movieId -> imdb id (links.csv)
        self.by_tmdb: dict[int, list[int]] = {}  # tmdb id -> movieIds (one tmdb id maps to two movies)
        self.hetrec_ok: set[int] = set()  # movies whose HetRec IMDb link agrees with links.csv
        self.tag_counts: Counter[tuple[int, str]] = Counter()
        self.tag_text: dict[tuple[int, str], str] = {}  # (movie, tag name) -> the tag as first written
        self.tmdb_countries: dict[int, list[str]] = {}  # movie -> TMDB production countries (fallback)

    def table(self, rel: str, **kw) -> Table:
        return Table(self.root / rel, rel, **kw)

    def parse(self, table: Table, fn):
        return parse_rows(table, self.rejects, fn, self.plan.rows_read)

    def has(self, folder: str) -> bool:
        return (self.root / folder).is_dir()

    def build(self) -> Plan:
        if not (self.root / ML / "movies.csv").is_file():
            raise SourceError(f"{self.root} does not look like a MovieLens source folder: "
                              f"{ML}/movies.csv is missing")
        self.movies()
        self.links()
        self.ratings()
        self.ml_tags()
        sources = [ML]
        if self.has(CAST):
            self.cast()
            sources.append(CAST)
        if self.has(HETREC):
            self.hetrec()
            sources.append(HETREC)
        if self.has(TEXT):
            self.text()
            sources.append(TEXT)
        for (item, tag), count in self.tag_counts.items():
            self.plan.add("has_tag", item=item, name=tag, count=count)
        self.plan.notes["sources"] = sources
        return self.plan

    # -- ml-latest-small ---------------------------------------------------------------------------
    def known(self, movie: int) -> int:
        if self.plan.get("item", movie) is None:
            raise RowError(f"unknown movie id: {movie} is not in {ML}/movies.csv")
        return movie

    def movies(self) -> None:
        def row(r: dict[str, str]) -> None:
            movie = to_int(r["movieId"], "movieId")
            raw_title = require(r, "title")
            match = _TITLE_YEAR.match(raw_title)
            title, year = (match["title"], int(match["year"])) if match else (raw_title, None)
            if self.plan.get("item", movie) is not None:
                raise RowError(f"duplicate movie id: {movie} appears twice")
            self.plan.add("item", id=movie, title=names.clean(title), text=None, year=year, imdb_id=None,
                          tmdb_id=None, overview=None, tagline=None)
            for genre in split_list(r["genres"]):
                if genre != NO_GENRE:
                    self.plan.link(movie, "genre", genre)

        for _ in self.parse(self.table(f"{ML}/movies.csv", columns=("movieId", "title", "genres")), row):
            pass

    def links(self) -> None:
        path = f"{ML}/links.csv"
        if not (self.root / path).is_file():
            return

        def row(r: dict[str, str]) -> None:
            movie = self.known(to_int(r["movieId"], "movieId"))
            imdb, tmdb = optional_int(r["imdbId"], "imdbId"), optional_int(r["tmdbId"], "tmdbId")
            m = self.plan.get("item", movie)
            m["imdb_id"], m["tmdb_id"] = imdb, tmdb
            if imdb is not None:
                self.imdb[movie] = imdb
            if tmdb is not None:
                self.by_tmdb.setdefault(tmdb, []).append(movie)

        for _ in self.parse(self.table(path, columns=("movieId", "imdbId", "tmdbId")), row):
            pass

    def ratings(self) -> None:
        def row(r: dict[str, str]) -> None:
            user = to_int(r["userId"], "userId")
            movie = self.known(to_int(r["movieId"], "movieId"))
            rating = to_float(r["rating"], "rating")
            if not RATING_MIN <= rating <= RATING_MAX:
                raise RowError(f"bad number: rating={rating} is outside {RATING_MIN}..{RATING_MAX}")
            ts = to_int(r["timestamp"], "timestamp")
            old = self.plan.get("rated", user, movie)
            if old is not None and old["ts"] > ts:
                return  # an older duplicate: the latest rating wins
            self.plan.add("user", id=user)
            self.plan.add("rated", user=user, item=movie, rating=rating, event=None, weight=None, ts=ts)

        for _ in self.parse(self.table(f"{ML}/ratings.csv", columns=("userId", "movieId", "rating", "timestamp")),
                            row):
            pass

    def ml_tags(self) -> None:
        path = f"{ML}/tags.csv"
        if not (self.root / path).is_file():
            return

        def row(r: dict[str, str]) -> None:
            user = to_int(r["userId"], "userId")
            movie = self.known(to_int(r["movieId"], "movieId"))
            tag = names.clean(require(r, "tag"))
            ts = to_int(r["timestamp"], "timestamp")
            self.plan.add("user", id=user)
            if self.plan.get("tagged", user, movie, tag) is None:
                self.tag_counts[(movie, names.tag_name(tag))] += 1
                self.tag_text.setdefault((movie, names.tag_name(tag)), tag)
            self.plan.add("tagged", user=user, item=movie, tag=tag, ts=ts)

        for _ in self.parse(self.table(path, columns=("userId", "movieId", "tag", "timestamp")), row):
            pass

    # -- movie-cast --------------------------------------------------------------------------------
    def in_catalogue(self, movie: int, source: str) -> bool:
        if self.plan.get("item", movie) is None:
            self.plan.skipped[f"{source}: movie not in the catalogue"] += 1
            return False
        return True

    def cast(self) -> None:
        def row(r: dict[str, str]) -> None:
            movie = to_int(r["movieId"], "movieId")
            if not self.in_catalogue(movie, CAST):
                return
            for order, actor in enumerate(split_list(r["actors"]), start=1):
                self.plan.link(movie, "actor", actor, order=order, replace=False)
            for director in split_list(r["director"]):
                self.plan.link(movie, "director", director)

        for _ in self.parse(self.table(f"{CAST}/movies.csv", columns=("movieId", "actors", "director")), row):
            pass

    # -- HetRec --------------------------------------------------------------------------------------
    def hetrec_table(self, name: str, columns: tuple[str, ...], header: bool = True) -> Table:
        return self.table(f"{HETREC}/{name}", delimiter="\t", encoding="latin-1", quoted=False,
                          header=header, columns=columns)

    def agreeing(self, movie: int) -> bool:
        if not self.in_catalogue(movie, HETREC):
            return False
        if movie not in self.hetrec_ok:
            self.plan.skipped[f"{HETREC}: IMDb link disagrees with links.csv"] += 1
            return False
        return True

    def hetrec(self) -> None:
        def movie_row(r: dict[str, str]) -> None:
            movie = to_int(r["id"], "id")
            imdb = optional_int(r["imdbID"], "imdbID")
            if imdb is not None and self.imdb.get(movie) == imdb:
                self.hetrec_ok.add(movie)

        for _ in self.parse(self.hetrec_table("movies.dat", ("id", "imdbID")), movie_row):
            pass
        self.plan.notes["hetrec_links_agree"] = len(self.hetrec_ok)

        def director_row(r: dict[str, str]) -> None:
            movie = to_int(r["movieID"], "movieID")
            if self.agreeing(movie) and r["directorName"].strip():
                self.plan.link(movie, "director", r["directorName"])

        self.optional(HETREC, "movie_directors.dat", ("movieID", "directorID", "directorName"), director_row)

        def actor_row(r: dict[str, str]) -> None:
            movie = to_int(r["movieID"], "movieID")
            rank = to_int(r["ranking"], "ranking")
            if self.agreeing(movie) and r["actorName"].strip():
                # HetRec's ranking is IMDb billing order: it wins over movie-cast's position
                self.plan.link(movie, "actor", r["actorName"], order=rank)

        actor_columns = ("movieID", "actorID", "actorName", "ranking")
        if (self.root / HETREC / "movie_actors.dat").is_file():  # the complete upstream file
            self.optional(HETREC, "movie_actors.dat", actor_columns, actor_row)
        else:
            self.optional(HETREC, "movie_actors.partial.dat", actor_columns, actor_row, header=False)

        def country_row(r: dict[str, str]) -> None:
            movie = to_int(r["movieID"], "movieID")
            if r["country"].strip() and self.agreeing(movie):
                self.plan.link(movie, "country", r["country"])

        self.optional(HETREC, "movie_countries.dat", ("movieID", "country"), country_row)

        tag_names: dict[int, str] = {}
        tag_texts: dict[int, str] = {}

        def tag_row(r: dict[str, str]) -> None:
            value = names.tag_name(r["value"])
            if value:
                tag_names[to_int(r["id"], "id")] = value
                tag_texts[to_int(r["id"], "id")] = names.clean(r["value"])

        def movie_tag_row(r: dict[str, str]) -> None:
            movie = to_int(r["movieID"], "movieID")
            tag = to_int(r["tagID"], "tagID")
            weight = to_int(r["tagWeight"], "tagWeight")
            if tag not in tag_names:
                raise RowError(f"unknown tag id: {tag} is not in tags.dat")
            if self.in_catalogue(movie, HETREC):  # tags come from MovieLens users: no IMDb link involved
                self.tag_counts[(movie, tag_names[tag])] += weight
                self.tag_text.setdefault((movie, tag_names[tag]), tag_texts[tag])

        if self.optional(HETREC, "tags.dat", ("id", "value"), tag_row):
            self.optional(HETREC, "movie_tags.dat", ("movieID", "tagID", "tagWeight"), movie_tag_row)

    def optional(self, folder: str, name: str, columns: tuple[str, ...], fn, header: bool = True) -> bool:
        """Parse a file that may be absent from a partial source folder; False when absent."""
        if not (self.root / folder / name).is_file():
            self.plan.notes.setdefault("missing_files", []).append(f"{folder}/{name}")
            return False
        table = self.hetrec_table(name, columns, header) if folder == HETREC else self.table(f"{folder}/{name}",
                                                                                             columns=columns)
        for _ in self.parse(table, fn):
            pass
        return True

    # -- movie-text (TMDB) -------------------------------------------------------------------------
    def tmdb_movies(self, r: dict[str, str]) -> list[int]:
        movies = self.by_tmdb.get(to_int(r["id"], "id"), [])
        if not movies:
            self.plan.skipped[f"{TEXT}: tmdb id not linked to the catalogue"] += 1
        return movies

    def text(self) -> None:
        def tmdb5000_row(r: dict[str, str]) -> None:
            movies = self.tmdb_movies(r)
            if not movies:
                return
            keywords = _json_names(r["keywords"], "keywords")
            studios = _json_names(r["production_companies"], "production_companies")
            countries = _json_names(r["production_countries"], "production_countries")
            for movie in movies:
                m = self.plan.get("item", movie)
                m["overview"] = names.clean(r["overview"]) or None
                m["tagline"] = names.clean(r["tagline"]) or None
                for kw in keywords:
                    self.plan.link(movie, "keyword", kw)
                for studio in studios:
                    self.plan.link(movie, "studio", studio)
                self.tmdb_countries[movie] = [TMDB_COUNTRY.get(c, c) for c in countries]

        def top10k_row(r: dict[str, str]) -> None:
            for movie in self.tmdb_movies(r):
                m = self.plan.get("item", movie)
                if not m["overview"]:
                    m["overview"] = names.clean(r["overview"]) or None

        self.optional(TEXT, "tmdb_5000_movies.csv",
                      ("id", "overview", "tagline", "keywords", "production_companies", "production_countries"),
                      tmdb5000_row)
        self.optional(TEXT, "top10K-TMDB-movies.csv", ("id", "overview"), top10k_row)
        with_country = self.plan.linked("country")
        for movie, countries in self.tmdb_countries.items():
            if movie not in with_country:
                for country in countries:
                    self.plan.link(movie, "country", country)
        for m in self.plan.rows["item"].values():
            self.plan.add_text(m["id"], m["overview"])
            self.plan.add_text(m["id"], m["tagline"])


def _json_names(text: str, field: str) -> list[str]:
    """TMDB's ``[{"id": 1, "name": "x"}, …]`` columns -> ``["x", …]``."""
    if not text.strip():
        return []
    try:
        value = json.loads(text)
        return [names.clean(str(v["name"])) for v in value if str(v.get("name", "")).strip()]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise RowError(f"bad JSON: {field} is not a list of {{name: …}} objects") from None


def build_plan(root: Path, rejects: Rejects) -> Plan:
    """Parse the source folder ``root`` into a plan (rejects go to ``rejects``)."""
    source = MovieLensSource(root, rejects)
    plan = source.build()
    for (item, tag), text in source.tag_text.items():
        # free-text tags (as written: case helps tokenising "Jr.") are input too, with how many people wrote them
        plan.add_tag_text(item, text, source.tag_counts[(item, tag)])
    return plan
