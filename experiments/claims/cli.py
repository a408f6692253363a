"""``tokensim claims list | check ID... | check --all | report``: the claims engine's command line."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tokensim.mechanisms.core import TokensimError

from ..paths import PACKAGE_ROOT, output_root
from .criteria import Claim, load_claims


def add_parser(sub, func) -> None:
    p = sub.add_parser("claims", help="computed verdicts on the claims of seeds/claims.toml")
    p.add_argument("--root", default=str(PACKAGE_ROOT), help="folder holding seeds/ and experiments/specs/ "
                                                             "(default: the repository, or the installed package)")
    p.add_argument("--claims", help="claims file (default: ROOT/seeds/claims.toml)")
    p.add_argument("--results", help="where records and chunks go (default: results/claims in the repository, "
                                     "or in the current folder when tokensim is installed from a wheel)")
    csub = p.add_subparsers(dest="claims_command", required=True)
    csub.add_parser("list", help="every claim with its stored verdict (current, stale or missing)")
    c = csub.add_parser("check", help="decide claims, running only what is missing")
    c.add_argument("ids", nargs="*", help="claim ids")
    c.add_argument("--all", action="store_true", help="every claim")
    c.add_argument("--workers", type=int, default=1, help="processes (or cluster tasks) at once")
    c.add_argument("--backend", default="local", help="local (process pool) or dask")
    c.add_argument("--address", help="Dask scheduler address (--backend dask)")
    c.add_argument("--force", action="store_true", help="re-decide even when the stored verdict is current")
    c.add_argument("--no-robustness", action="store_true", help="skip the Morris screen and ensemble")
    c.add_argument("--ensemble", type=int, help="Latin hypercube ensemble points (default 32)")
    c.add_argument("--ensemble-samples", type=int, help="samples per ensemble point (default max(4, samples/2))")
    c.add_argument("--budget", type=float, help="robustness compute per claim, in seconds by the models' cost functions "
                                                "(default 400); sizes the ensemble")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    r = csub.add_parser("report", help="write docs/claims.md, docs/claims.html and README's findings table")
    r.add_argument("--docs", help="docs folder (default: docs/ in the repository, or in the current folder)")
    r.add_argument("--readme", help="README to update between its markers (default: ROOT/README.md if there is "
                                    "one; an installed package has none)")
    p.set_defaults(func=func)


def _paths(args) -> tuple[Path, Path, Path]:
    root = Path(args.root)
    claims = Path(args.claims) if args.claims else root / "seeds" / "claims.toml"
    results = Path(args.results) if args.results else output_root(root) / "results" / "claims"
    return root, claims, results


def settings_from(args):
    from .engine import Settings

    kw = {"robustness": not getattr(args, "no_robustness", False)}
    for name in ("ensemble", "ensemble_samples", "budget"):
        value = getattr(args, name, None)
        if value is not None:
            if value <= 0 or (name != "budget" and value < 1):
                raise TokensimError(f"--{name.replace('_', '-')} = {value} is not allowed; allowed: "
                                   + ("a number > 0" if name == "budget" else "an integer >= 1"))
            kw[name] = value
    return Settings(**kw)


def _select(claims: list[Claim], ids: list[str], everything: bool) -> list[Claim]:
    if everything:
        return claims
    if not ids:
        raise TokensimError("name claim ids (tokensim claims list shows them) or use --all")
    known = {c.id: c for c in claims}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise TokensimError(f"unknown claim '{unknown[0]}'; claims: {', '.join(known)}")
    return [known[i] for i in ids]


def run_claims(args: argparse.Namespace) -> int:
    from .engine import Settings, is_current, read_record
    from .report import summary_rows, table_text

    root, claims_path, results = _paths(args)
    claims = load_claims(claims_path)
    if args.claims_command == "list":
        rows = []
        for claim in claims:
            record = read_record(results, claim.id)
            state = "missing" if record is None else "current" if is_current(claim, root, results, Settings()) else "stale"
            rows.append((claim, record, state))
        print(table_text(summary_rows(rows)))
        return 0
    if args.claims_command == "report":
        from .report import write_report

        docs = Path(args.docs) if args.docs else output_root(root) / "docs"
        readme = Path(args.readme) if args.readme else (root / "README.md" if (root / "README.md").is_file() else None)
        try:
            written = write_report(claims, results, docs, readme, root)
        except OSError as exc:
            raise TokensimError(f"claims report: cannot use {exc.filename or docs}: {exc.strerror or exc} "
                                "(choose another --docs or --readme)") from None
        for path in written:
            print(f"wrote {path}")
        return 0
    return _check(args, root, claims_path, claims, results)


def _check(args, root: Path, claims_path: Path, claims: list[Claim], results: Path) -> int:
    from tqdm import tqdm

    from ..backends import chunk_map
    from .engine import Progress, check_claim
    from .report import summary_rows, table_text

    chosen = _select(claims, args.ids, args.all)
    settings = settings_from(args)
    mapper = chunk_map(args.backend, args.workers, args.address)

    class Bar(Progress):
        def __init__(self) -> None:
            self.bar = tqdm(total=0, unit="run", disable=args.quiet, file=sys.stderr, dynamic_ncols=True)

        def expect(self, rows: int) -> None:
            self.bar.total += rows
            self.bar.refresh()

        def update(self, rows: int) -> None:
            self.bar.update(rows)

        def stage(self, text: str) -> None:
            self.bar.set_description_str(text[:70])

    bar = Bar()
    started = time.perf_counter()
    rows = []
    try:
        for claim in chosen:
            record = check_claim(claim, root, results, settings, mapper, bar, force=args.force,
                                 claims_source=str(claims_path))
            rows.append((claim, record, "current"))
    except KeyboardInterrupt:
        bar.bar.close()
        print(f"interrupted: finished chunks are kept in {results / 'chunks'}; run the same command again to resume",
              file=sys.stderr)
        return 130
    bar.bar.close()
    print(table_text(summary_rows(rows)))
    print(f"\n{len(rows)} claim(s) in {time.perf_counter() - started:.1f} s; records in {results}/<id>/verdict.json; "
          f"`tokensim claims report` writes docs/claims.md")
    return 0
