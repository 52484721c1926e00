"""Command line: ``python -m quantheory claims [BUILD_DIR] [--json] [--require-all]``.

Prints one row per claim id of the specification (and any extra claims the
book adds) with pass / fail / missing and the key numbers, read from the
``claims.json`` that the book build writes into its HTML output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quantheory.sphinx_ext import CLAIMS_FILE

ROW_FIELDS = ("id", "status", "kind", "docname", "key_numbers", "margin", "provenance", "claim")


def find_claims_file(build_dir: Path) -> Path:
    """Locate ``claims.json`` under a Jupyter Book build directory (or its html/)."""
    for candidate in (build_dir / "html" / CLAIMS_FILE, build_dir / CLAIMS_FILE):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no {CLAIMS_FILE} under {build_dir} (looked in {build_dir / 'html'} and {build_dir}); "
        "build the book first, for example with `python3 make.py book`"
    )


def format_table(rows: list[dict]) -> str:
    width = max(len(r["id"]) for r in rows)
    lines = [f"{'claim':{width}s}  {'status':7s}  {'kind':7s}  key numbers (margin)"]
    for row in rows:
        detail = row.get("key_numbers") or f"({row.get('statement', '')})"
        if row.get("margin"):
            detail += f" (margin: {row['margin']})"
        kind = row.get("kind") or "-"
        lines.append(f"{row['id']:{width}s}  {row['status']:7s}  {kind:7s}  {detail}")
    return "\n".join(lines)


def claims_command(args: argparse.Namespace) -> int:
    try:
        path = find_claims_file(Path(args.build_dir))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    payload = json.loads(path.read_text())
    rows = payload["rows"]
    if args.json:
        print(
            json.dumps(
                {
                    "scale": payload["scale"],
                    "master_seed": payload.get("master_seed"),
                    "rows": [{k: r.get(k) for k in ROW_FIELDS} for r in rows],
                },
                indent=1,
            )
        )
    else:
        print(
            f"claims of the book built at scale {payload['scale']!r}, master seed "
            f"{payload.get('master_seed')} ({path})"
        )
        print(format_table(rows))
    failed = any(r["status"] == "fail" for r in rows)
    missing = any(r["status"] == "missing" for r in rows)
    return 1 if failed or (args.require_all and missing) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m quantheory", description="Tools of the quantheory book."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    claims = sub.add_parser("claims", help="list the book's claims and their status")
    claims.add_argument(
        "build_dir",
        nargs="?",
        default="_build",
        help="the book's build directory (default: _build)",
    )
    claims.add_argument("--json", action="store_true", help="print JSON instead of a table")
    claims.add_argument(
        "--require-all",
        action="store_true",
        help="also exit 1 if any claim id of the specification is missing",
    )
    claims.set_defaults(func=claims_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
