#!/usr/bin/env python3
"""K-fold cross-validation of `stance` and the peer classifiers on the same folds.

Only the rows of one split (--split, default train) are read; every other row (the withheld test
split, for one) is left out of the folds entirely. Those rows are dealt into K folds, stratified by
the label (by the topic+stance pair when --label is stance): rows are ordered by the SHA-256 of
"{seed}:{id}", grouped by stratum (strata in sorted order), and dealt round-robin into the folds,
the dealing position carrying over from one stratum to the next so that fold sizes differ by at
most one row. Fold f's CSV holds all the rows, with `split` rewritten to "dev" for the rows of fold
f and "train" for the others. The fold files are written once and every system reads the same ones.

Systems:
  stance variants  `stance train --data FOLD --split train --model M [FLAGS]`, then
                   `stance eval --model M --data FOLD --split dev --format json`; the figures of
                   the head named by --label are read (the stance head is given each row's gold
                   topic). With --label topic, training gets `--only topic` so that only
                   the topic head is fitted. fit s is the "trained in" time that `stance train`
                   reports (featurising + fitting, CSV reading excluded, like the peers' fit_s).
  peers            `PEER_PYTHON peer.py --data FOLD --peer P --label L --train train --test dev
                   [--per-topic]`; "P:per-topic" in --peers adds --per-topic.

Output: a markdown table on stdout (mean and sample standard deviation over the folds; median fit
time), all per-fold figures in --out-json. Progress goes to stderr.

Example:
  python3 bench/cv.py --data ../shared/data/semeval2016_task6/data.csv --label stance --folds 5 \\
      --peers sklearn-lr,sklearn-lr:per-topic,fasttext --stance-variant "default=" \\
      --stance-variant "char=--char-ngrams --balanced" --out-json bench/cv.json > bench/cv.md
"""
import argparse
import csv
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

csv.field_size_limit(sys.maxsize)

PEERS = ("sklearn-lr", "sklearn-svm", "fasttext", "fasttext-fast", "vw")
PEER_SCRIPT = "/work/shared/peers/peer.py"
PEER_SETUP = "/work/shared/peers/setup.sh"


def log(msg):
    print(f"[cv {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="CSV with columns id,text,topic[,stance],split")
    ap.add_argument("--split", default="train", help="only rows of this split are used (default train)")
    ap.add_argument("--label", required=True, choices=("topic", "stance"))
    ap.add_argument("--folds", type=int, default=5, help="K (default 5)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the fold assignment (default 1)")
    ap.add_argument("--peers", default="",
                    help="comma list from " + ", ".join(PEERS) + "; P:per-topic runs peer.py --per-topic; "
                         "empty or 'none' for no peers")
    ap.add_argument("--stance-bin", default="/work/main/target/release/stance",
                    help="the stance binary (copied to the work folder at start)")
    ap.add_argument("--stance-variant", action="append", default=[], metavar="NAME=FLAGS",
                    help="repeatable; FLAGS are appended to `stance train` (default: one variant 'default=')")
    ap.add_argument("--peer-python", default="/tmp/peers/bin/python")
    ap.add_argument("--peer-script", default=PEER_SCRIPT)
    ap.add_argument("--out-json", help="per-fold figures (JSON)")
    ap.add_argument("--tmp", help="work folder (kept); default a new temporary folder, removed at the end")
    ap.add_argument("--timeout", type=float, default=3600, help="kill a child after this many seconds")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("--folds must be at least 2")

    peers = []
    for p in [p.strip() for p in args.peers.split(",") if p.strip() and p.strip() != "none"]:
        name, _, mod = p.partition(":")
        if name not in PEERS or mod not in ("", "per-topic"):
            ap.error(f"unknown peer {p!r}")
        if mod == "per-topic" and args.label != "stance":
            ap.error(f"{p}: --per-topic routes by gold topic, so it needs --label stance")
        peers.append((p, name, mod == "per-topic"))
    args.peer_list = peers

    variants = []
    for v in args.stance_variant or ["default="]:
        name, eq, flags = v.partition("=")
        if not eq or not name.strip():
            ap.error(f"--stance-variant wants NAME=FLAGS, got {v!r}")
        variants.append((name.strip(), shlex.split(flags)))
    if len({n for n, _ in variants}) != len(variants):
        ap.error("--stance-variant names must be distinct")
    args.variants = variants
    return args


# ---------------------------------------------------------------------------------------------
# Folds


def read_rows(path, split):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        for col in ("id", "text", "split"):
            if col not in fields:
                sys.exit(f"{path}: no {col!r} column")
        rows = [row for row in reader if row["split"] == split]
    if not rows:
        sys.exit(f"{path}: no rows of split {split!r}")
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        sys.exit(f"{path}: duplicate ids in split {split!r}")
    return fields, rows


def assign_folds(rows, label, k, seed):
    """Fold index per row: stratified, deterministic, sizes within one of each other."""
    def key(r):
        if label == "stance":
            return ((r.get("topic") or "").strip(), (r.get("stance") or "").strip())
        return ((r.get(label) or "").strip(),)

    order = sorted(range(len(rows)),
                   key=lambda i: hashlib.sha256(f"{seed}:{rows[i]['id']}".encode("utf-8")).hexdigest())
    strata = {}
    for i in order:
        strata.setdefault(key(rows[i]), []).append(i)
    fold = [None] * len(rows)
    pos = 0
    for s in sorted(strata):
        for i in strata[s]:
            fold[i] = pos % k
            pos += 1
    return fold, {" / ".join(s): len(v) for s, v in sorted(strata.items())}


def write_folds(fields, rows, fold, k, folder):
    paths = []
    for f in range(k):
        path = os.path.join(folder, f"fold{f}.csv")
        with open(path, "w", newline="", encoding="utf-8") as out:
            w = csv.DictWriter(out, fieldnames=fields)
            w.writeheader()
            for row, rf in zip(rows, fold):
                r = dict(row)
                r["split"] = "dev" if rf == f else "train"
                w.writerow(r)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------
# Systems


def run(cmd, timeout):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       universal_newlines=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {' '.join(shlex.quote(c) for c in cmd)}\n"
                           f"{p.stderr.strip()[-2000:]}")
    return p.stdout, p.stderr, wall


def run_stance(binary, flags, fold_csv, label, folder, tag, timeout):
    model = os.path.join(folder, f"{tag}.model")
    cmd = [binary, "train", "--data", fold_csv, "--split", "train", "--model", model]
    if label == "topic":
        cmd += ["--only", "topic"]
    cmd += flags
    out, err, train_wall = run(cmd, timeout)
    m = re.search(r"trained in ([0-9.]+) s", out + err)
    fit_s = float(m.group(1)) if m else train_wall
    out, _, eval_wall = run([binary, "eval", "--model", model, "--data", fold_csv, "--split", "dev",
                             "--format", "json"], timeout)
    report = json.loads(out)
    head = report.get(label)
    if not head:
        raise RuntimeError(f"stance eval gave no {label!r} head")
    try:
        os.remove(model)
    except OSError:
        pass
    return {
        "accuracy": head.get("accuracy"),
        "macro_f1": head.get("macro_f1"),
        "f_avg": head.get("f_avg"),
        "ece": head.get("ece"),
        "test_rows": head.get("rows"),
        "fit_s": fit_s,
        "train_wall_s": round(train_wall, 3),
        "eval_wall_s": round(eval_wall, 3),
    }


def run_peer(python, script, peer, per_topic, fold_csv, label, timeout):
    cmd = [python, script, "--data", fold_csv, "--peer", peer, "--label", label,
           "--train", "train", "--test", "dev"]
    if per_topic:
        cmd.append("--per-topic")
    out, _, wall = run(cmd, timeout)
    lines = [l for l in out.splitlines() if l.strip().startswith("{")]
    if not lines:
        raise RuntimeError(f"peer printed no JSON line: {out[-500:]!r}")
    res = json.loads(lines[-1])
    res["wall_s"] = round(wall, 3)
    return res


# ---------------------------------------------------------------------------------------------
# Report


def mean_sd(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    m = statistics.mean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return m, sd, len(vals)


def fmt_ms(values, k):
    r = mean_sd(values)
    if r is None:
        return "—"
    m, sd, n = r
    s = f"{m:.4f} ± {sd:.4f}"
    return s if n == k else s + f" ({n}/{k} folds)"


def table(systems, k, label):
    lines = [
        "| system | accuracy mean±sd | macro-F1 mean±sd | F_avg mean±sd | ECE (stance only) | fit s (median) |",
        "|---|---|---|---|---|---|",
    ]
    for s in systems:
        folds = [f for f in s["folds"] if "error" not in f]
        if not folds:
            lines.append(f"| {s['system']} | failed | | | | |")
            continue
        fit = statistics.median([f["fit_s"] for f in folds])
        ece = fmt_ms([f.get("ece") for f in folds], k) if s["kind"] == "stance" else "—"
        lines.append("| {} | {} | {} | {} | {} | {:.3f} |".format(
            s["system"], fmt_ms([f["accuracy"] for f in folds], k),
            fmt_ms([f["macro_f1"] for f in folds], k), fmt_ms([f.get("f_avg") for f in folds], k),
            ece, fit))
    return "\n".join(lines)


def main(argv):
    args = parse_args(argv)
    command = " ".join(shlex.quote(a) for a in [os.path.basename(sys.executable) or "python3"] + sys.argv)
    started = time.time()

    own_tmp = args.tmp is None
    folder = tempfile.mkdtemp(prefix="stance_cv_") if own_tmp else args.tmp
    os.makedirs(folder, exist_ok=True)
    log(f"work folder {folder}")

    binary = None
    bin_sha = None
    if args.variants:
        if not os.path.isfile(args.stance_bin):
            sys.exit(f"no stance binary at {args.stance_bin}")
        binary = os.path.join(folder, "stance")
        shutil.copy2(args.stance_bin, binary)
        bin_sha = sha256_file(binary)
        log(f"stance binary {args.stance_bin} copied (sha256 {bin_sha[:12]})")

    if args.peer_list and not os.path.exists(args.peer_python):
        venv = os.path.dirname(os.path.dirname(args.peer_python))
        log(f"{args.peer_python} missing: running setup.sh {venv}")
        subprocess.run(["bash", PEER_SETUP, venv], check=True, stdout=sys.stderr)

    fields, rows = read_rows(args.data, args.split)
    if args.label not in fields or (args.label == "stance" and "topic" not in fields):
        sys.exit(f"{args.data}: missing label column(s) for --label {args.label}")
    fold, strata = assign_folds(rows, args.label, args.folds, args.seed)
    paths = write_folds(fields, rows, fold, args.folds, folder)
    fold_sizes = [fold.count(f) for f in range(args.folds)]
    log(f"{len(rows)} rows of split {args.split!r}, {len(strata)} strata, fold sizes {fold_sizes}")

    results = {
        "command": command,
        "data": os.path.abspath(args.data),
        "data_sha256": sha256_file(args.data),
        "split": args.split,
        "label": args.label,
        "folds": args.folds,
        "seed": args.seed,
        "rows": len(rows),
        "fold_sizes": fold_sizes,
        "strata": strata,
        "stance_bin": os.path.abspath(args.stance_bin) if binary else None,
        "stance_bin_sha256": bin_sha,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_avg_start": list(os.getloadavg()),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "systems": [],
    }

    def save():
        if args.out_json:
            tmp = args.out_json + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(results, f, indent=1)
                f.write("\n")
            os.replace(tmp, args.out_json)

    jobs = [("stance", f"stance {name}", name, flags) for name, flags in args.variants]
    jobs += [("peer", spec, name, per_topic) for spec, name, per_topic in args.peer_list]
    for kind, system, name, extra in jobs:
        entry = {"system": system, "kind": kind, "folds": []}
        if kind == "stance":
            entry["flags"] = extra
        else:
            entry["peer"] = name
            entry["per_topic"] = extra
        results["systems"].append(entry)
        for f, path in enumerate(paths):
            log(f"{system}: fold {f + 1}/{args.folds}")
            try:
                if kind == "stance":
                    res = run_stance(binary, extra, path, args.label, folder, f"{name}_{f}", args.timeout)
                else:
                    res = run_peer(args.peer_python, args.peer_script, name, extra, path, args.label,
                                   args.timeout)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                log(f"{system}: fold {f + 1} failed: {e}")
                res = {"error": str(e)}
            res["fold"] = f
            entry["folds"].append(res)
            if "error" not in res:
                log(f"{system}: fold {f + 1}: acc {res['accuracy']:.4f} macro-F1 {res['macro_f1']:.4f}"
                    + (f" F_avg {res['f_avg']:.4f}" if res.get("f_avg") is not None else "")
                    + f" fit {res['fit_s']:.2f} s")
            save()

    results["load_avg_end"] = list(os.getloadavg())
    results["elapsed_s"] = round(time.time() - started, 1)
    if binary and os.path.isfile(args.stance_bin) and sha256_file(args.stance_bin) != bin_sha:
        results["note"] = "the stance binary changed during the run; the copy taken at start was measured"
    save()

    print(f"`{command}`\n")
    print(f"{args.folds}-fold cross-validation on {len(rows)} rows of split `{args.split}` of "
          f"`{os.path.basename(os.path.dirname(os.path.abspath(args.data)))}`, label `{args.label}`, "
          f"stratified by {'topic+stance' if args.label == 'stance' else args.label}, seed {args.seed}; "
          f"fold sizes {', '.join(map(str, fold_sizes))}. Mean ± sample sd over folds; fit s is the "
          f"median over folds. Load average {results['load_avg_start'][0]:.2f} at start, "
          f"{results['load_avg_end'][0]:.2f} at end, {results['cpus']} CPUs; {results['elapsed_s']:.0f} s in all.\n")
    print(table(results["systems"], args.folds, args.label))
    if results.get("note"):
        print(f"\nNote: {results['note']}.")
    failed = [f"{s['system']} fold {f['fold']}" for s in results["systems"] for f in s["folds"] if "error" in f]
    if failed:
        print("\nFailed: " + ", ".join(failed) + " (see the JSON for the errors).")

    if own_tmp:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
