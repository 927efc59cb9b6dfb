"""The mutant catalogue (`catalogue.json` beside this module), loaded and checked.

Each mutant is one search and replace on one file. `stale` lists the mutants whose search text
no longer occurs exactly once, so a run can refuse them loudly instead of counting them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tooling import REPO

CATALOGUE = Path(__file__).with_name("catalogue.json")
FORMAT = 1


class CatalogueError(ValueError):
    """The catalogue is malformed; the message names the mutant and key at fault."""


@dataclass(frozen=True)
class Mutant:
    """One planted bug: where, what to search for, what to put instead, and why it matters."""

    id: str
    area: str
    file: str
    search: str
    replace: str
    doc: str
    equivalent: str | None = None

    @property
    def path(self) -> Path:
        """The file the mutant edits, in this checkout."""
        return REPO / self.file

    def occurrences(self) -> int:
        """How often the search text occurs in the file now (1 when the mutant is usable)."""
        return self.path.read_text(encoding="utf-8").count(self.search)

    def apply(self) -> str:
        """Write the mutant into its file; return the original text (to restore)."""
        original = self.path.read_text(encoding="utf-8")
        self.path.write_text(original.replace(self.search, self.replace, 1), encoding="utf-8")
        return original


@dataclass(frozen=True)
class Catalogue:
    """Every mutant, and the pytest arguments that test each area."""

    areas: dict[str, tuple[str, ...]]
    mutants: tuple[Mutant, ...]

    def stale(self) -> list[Mutant]:
        """The mutants whose search text does not occur exactly once in their file."""
        return [m for m in self.mutants if m.occurrences() != 1]

    def sample(self, count: int, seed: str) -> list[Mutant]:
        """`count` mutants chosen by `seed` (a commit hash): the same seed, the same sample.

        The sample takes from every area in turn, so each run checks all three.
        """

        def rank(mutant: Mutant) -> str:
            return hashlib.sha256(f"{seed}:{mutant.id}".encode()).hexdigest()

        by_area = {
            area: sorted((m for m in self.mutants if m.area == area), key=rank)
            for area in self.areas
        }
        chosen: list[Mutant] = []
        while len(chosen) < min(count, len(self.mutants)):
            for area in self.areas:
                if by_area[area] and len(chosen) < count:
                    chosen.append(by_area[area].pop(0))
        return chosen


def _mutant(obj: object, where: str, areas: dict[str, tuple[str, ...]]) -> Mutant:
    if not isinstance(obj, dict):
        msg = f"{where}: a mutant must be an object"
        raise CatalogueError(msg)
    required = ("id", "area", "file", "search", "replace", "doc")
    missing = [k for k in required if not isinstance(obj.get(k), str)]
    unknown = sorted(set(obj) - {*required, "equivalent"})
    if missing or unknown:
        msg = f"{where}: missing or non-string `{(missing or unknown)[0]}`"
        raise CatalogueError(msg)
    if obj["area"] not in areas:
        msg = f"{where} `{obj['id']}`: unknown area `{obj['area']}`"
        raise CatalogueError(msg)
    if not obj["search"] or obj["search"] == obj["replace"]:
        msg = f"{where} `{obj['id']}`: the search must be non-empty and differ from the replace"
        raise CatalogueError(msg)
    return Mutant(**obj)


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    """Read and check the catalogue; raise `CatalogueError` naming the fault."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        msg = f"`{path.name}`: expected format {FORMAT}"
        raise CatalogueError(msg)
    areas = {name: tuple(args) for name, args in data["areas"].items()}
    mutants = tuple(
        _mutant(obj, f"`{path.name}`: mutants[{i}]", areas) for i, obj in enumerate(data["mutants"])
    )
    ids = [m.id for m in mutants]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        msg = f"`{path.name}`: duplicate mutant `{dupes[0]}`"
        raise CatalogueError(msg)
    return Catalogue(areas, mutants)
