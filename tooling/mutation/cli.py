"""`python -m tooling mutate`: run the mutant catalogue, or a sample of it, and print the score.

Exit 0 when every non-equivalent mutant that was run is killed (or stillborn), 1 when one
survived, 2 when the catalogue is stale (a search text not found exactly once) or pytest
could not judge a mutant. A stale mutant is never counted as killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import time
from collections import Counter

from tooling import REPO
from tooling.mutation.catalogue import CatalogueError, Mutant, load_catalogue
from tooling.mutation.runner import MutantResult, MutationRunError, run_mutant

EXIT_OK, EXIT_SURVIVOR, EXIT_BROKEN = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `mutate` options."""
    parser.add_argument("--area", action="append", help="only mutants of this area (repeatable)")
    parser.add_argument("--id", action="append", dest="ids", help="only this mutant (repeatable)")
    parser.add_argument(
        "--sample", type=int, help="run N mutants chosen by --seed, from every area in turn"
    )
    parser.add_argument("--seed", help="the sample's seed (default: the commit hash of HEAD)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def _head() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "no-git"


def _select(args: argparse.Namespace, mutants: list[Mutant]) -> list[Mutant]:
    if args.area:
        mutants = [m for m in mutants if m.area in args.area]
    if args.ids:
        unknown = sorted(set(args.ids) - {m.id for m in mutants})
        if unknown:
            msg = f"no mutant `{unknown[0]}` in the selection"
            raise CatalogueError(msg)
        mutants = [m for m in mutants if m.id in args.ids]
    return mutants


def score_lines(results: list[MutantResult]) -> list[str]:
    """One line per area: killed, survived, stillborn, equivalent, and the score."""
    lines = []
    for area in dict.fromkeys(r.mutant.area for r in results):
        mine = [r for r in results if r.mutant.area == area]
        scored = Counter(r.outcome for r in mine if r.mutant.equivalent is None)
        equivalent = sum(1 for r in mine if r.mutant.equivalent is not None)
        judged = scored["killed"] + scored["survived"]
        score = f"{100 * scored['killed'] / judged:.1f}%" if judged else "n/a"
        lines.append(
            f"{area}: {scored['killed']} killed, {scored['survived']} survived,"
            f" {scored['stillborn']} stillborn, {equivalent} equivalent: score {score}"
        )
    return lines


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the planted file is restored."""
    del frame
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> int:
    """Run the selected mutants one by one and print each outcome, then the score."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        catalogue = load_catalogue()
        stale = catalogue.stale()
        if stale:
            for m in stale:
                print(f"stale: {m.id}: `{m.file}` has the search text {m.occurrences()} times")
            return EXIT_BROKEN
        mutants = _select(args, list(catalogue.mutants))
        if args.sample is not None:
            seed = args.seed or _head()
            picked = {m.id for m in catalogue.sample(args.sample, seed)}
            mutants = [m for m in mutants if m.id in picked]
            print(f"sample of {len(mutants)} chosen by seed {seed}")
    except CatalogueError as exc:
        print(f"error: {exc}")
        return EXIT_BROKEN
    start = time.perf_counter()
    results = []
    for mutant in mutants:
        try:
            result = run_mutant(mutant, catalogue)
        except MutationRunError as exc:
            print(f"error: {mutant.id}: {exc}")
            return EXIT_BROKEN
        results.append(result)
        tag = " (equivalent)" if mutant.equivalent else ""
        print(f"{result.outcome:<9} {result.seconds:6.1f}s  {mutant.id}{tag}  {result.detail}")
    elapsed = time.perf_counter() - start
    survivors = [r for r in results if r.outcome == "survived" and not r.mutant.equivalent]
    if args.json:
        rows = [
            {
                "id": r.mutant.id,
                "area": r.mutant.area,
                "outcome": r.outcome,
                "equivalent": r.mutant.equivalent,
                "seconds": round(r.seconds, 1),
            }
            for r in results
        ]
        print(json.dumps({"seconds": round(elapsed, 1), "results": rows}, indent=2))
    for line in score_lines(results):
        print(line)
    print(f"{len(results)} mutants in {elapsed:.0f} s; {len(survivors)} non-equivalent survived")
    return EXIT_SURVIVOR if survivors else EXIT_OK
