#!/usr/bin/env python3
"""Score pySBD on the hand-written segmentation cases, the way tests/segmentation.rs scores stance.

A case is right when the list of statements pySBD produces equals the expected list, each
statement compared with whitespace runs folded to one space and stripped (empty ones dropped).
Every expected statement counts, whatever its kind (sentence, heading, byline, dateline, meta),
as in the Rust harness.

Three variants are scored:
  pysbd             the whole text of a case given to pySBD at once;
  pysbd+paragraphs  the text split on blank lines first, each paragraph given to pySBD;
  pysbd+unwrap      as pysbd+paragraphs, with the single line breaks inside a paragraph turned
                    into spaces (pySBD ends a segment at every line break; stance does not).

On first run the script makes a virtualenv at /tmp/pysbd-venv, installs pysbd into it from PyPI
and re-executes itself with that interpreter.

Usage:
  python3 bench/pysbd_compare.py [--cases FILE ...] [--json [PATH]] [--show-failures N]
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict

VENV = os.environ.get("PYSBD_VENV", "/tmp/pysbd-venv")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.join(HERE, "..", "tests", "data", "segmentation_cases.jsonl")


def venv_python():
    return os.path.join(VENV, "bin", "python")


def ensure_pysbd():
    """Re-execute inside the venv (creating it and installing pysbd if needed)."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    py = venv_python()
    if not os.path.exists(py):
        print(f"creating virtualenv {VENV}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    have = subprocess.run([py, "-c", "import pysbd"], capture_output=True).returncode == 0
    if not have:
        print("installing pysbd from PyPI", file=sys.stderr)
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", "pysbd"])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def fold(s):
    return " ".join(s.split())


PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


def load_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            case = json.loads(line)
            case["_expected"] = [fold(e["text"]) for e in case["expected"]]
            cases.append(case)
    return cases


def chunks_of(text, variant):
    if variant == "pysbd":
        return [text]
    paras = PARAGRAPH_BREAK.split(text)
    if variant == "pysbd+unwrap":
        paras = [" ".join(p.split("\n")) for p in paras]
    return paras


VARIANTS = ("pysbd", "pysbd+paragraphs", "pysbd+unwrap")


def run_variant(seg, cases, variant):
    per_cat = OrderedDict()
    right = 0
    failures = []
    for case in cases:
        text = case["text"]
        got = []
        for chunk in chunks_of(text, variant):
            if not chunk.strip():
                continue
            for s in seg.segment(chunk):
                f = fold(s)
                if f:
                    got.append(f)
        ok = got == case["_expected"]
        r, t = per_cat.get(case["category"], (0, 0))
        per_cat[case["category"]] = (r + ok, t + 1)
        right += ok
        if not ok:
            failures.append({"id": case["id"], "expected": case["_expected"], "got": got})
    return per_cat, right, len(cases), failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", default=[DEFAULT_CASES],
                    help="JSONL case files (default: tests/data/segmentation_cases.jsonl)")
    ap.add_argument("--json", nargs="?", const="-", metavar="PATH",
                    help="write a JSON summary to PATH (or stdout when PATH is omitted or '-')")
    ap.add_argument("--show-failures", type=int, default=0, metavar="N",
                    help="print up to N failing cases per variant and file")
    args = ap.parse_args()

    ensure_pysbd()
    import pysbd  # noqa: E402  (available once inside the venv)

    seg = pysbd.Segmenter(language="en", clean=False, char_span=False)
    version = getattr(pysbd, "__version__", "?")
    summary = {"tool": "pysbd", "pysbd_version": version, "files": []}
    out = sys.stderr if args.json == "-" else sys.stdout

    for path in args.cases:
        cases = load_cases(path)
        file_summary = {"cases_file": os.path.relpath(os.path.abspath(path), os.path.join(HERE, "..")),
                        "variants": {}}
        results = {}
        for name in VARIANTS:
            per_cat, right, total, failures = run_variant(seg, cases, name)
            results[name] = (per_cat, right, total, failures)
            file_summary["variants"][name] = {
                "right": right,
                "total": total,
                "percent": round(100.0 * right / total, 1) if total else 0.0,
                "per_category": {c: {"right": r, "total": t} for c, (r, t) in per_cat.items()},
                "failed_ids": [f["id"] for f in failures],
            }
        summary["files"].append(file_summary)

        print(f"{file_summary['cases_file']}  (pysbd {version}, language=en, clean=False)", file=out)
        cats = list(results["pysbd"][0].keys())
        print(f"{'category':<28}" + "".join(f"{v:>18}" for v in VARIANTS), file=out)
        for c in sorted(cats):
            cells = "".join(f"{results[v][0][c][0]:>12} / {results[v][0][c][1]:<3}" for v in VARIANTS)
            print(f"{c:<28}{cells}", file=out)
        cells = "".join(f"{results[v][1]:>12} / {results[v][2]:<3}" for v in VARIANTS)
        print(f"{'all':<28}{cells}   exactly right", file=out)
        cells = "".join(f"{100.0 * results[v][1] / max(results[v][2], 1):>17.1f}%" for v in VARIANTS)
        print(f"{'':<28}{cells}", file=out)
        if args.show_failures:
            for name in VARIANTS:
                for f in results[name][3][: args.show_failures]:
                    print(f"\n[{name}] {f['id']}\n  expected: {f['expected']}\n  got:      {f['got']}", file=out)
        print(file=out)

    if args.json:
        data = json.dumps(summary, indent=2, ensure_ascii=False)
        if args.json == "-":
            print(data)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(data + "\n")
            print(f"wrote {args.json}", file=out)


if __name__ == "__main__":
    main()
