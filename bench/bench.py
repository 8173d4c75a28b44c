#!/usr/bin/env python3
"""Benchmark `stance` against the peer classifiers of ../shared/peers/peer.py.

Standard library only; run with any python3 (3.6 or later):

    python3 bench/bench.py                      # everything, 3 runs, writes BENCHMARKS.md
    python3 bench/bench.py --runs 1 --tasks bbc-topic --peers fasttext-fast --skip-growth \
        --out /tmp/bench_smoke.md --results /tmp/bench_smoke.json

What it measures (see bench/README.md for more):

* Tasks: ukp-stance, ukp-topic, semeval-stance, semeval-topic, bbc-topic, reuters-topic,
  20ng-topic. Each system is trained on `train` and scored on `dev`.
* `stance`: whole processes. `stance train` (wall seconds, peak RSS of the child from
  os.wait4), `stance eval --format json` (accuracy, macro-F1, F_avg of the task's head) and
  `stance classify --format jsonl` over a text file holding the dev texts, one per paragraph
  (prediction throughput = dev texts / wall seconds; statements / wall seconds is reported
  beside it). Medians over --runs runs. For a topic task on a file that also has a stance
  column only the topic head is trained (`--only topic`);
  for a stance task both heads are trained, as a user does, because the stance head uses the
  topic column, so the fit time covers both heads. Stance tasks also get a row
  "stance (no topic)" trained with `--only stance --no-topic-features`: a stance head
  alone, the like of the plain (not --per-topic) peers.
* Peers: `peer.py` prints fit_s, rows_per_s and peak_rss_mb measured inside the process;
  the table shows their medians over --runs runs (--runs-slow runs for sklearn-* on Reuters and
  20 Newsgroups). On semeval-stance each peer also runs with --per-topic.
* fnc-throughput: `stance classify` over the 1,683 FNC-1 article bodies in one text file (blank
  lines between articles) with a model trained on UKP train; statements/s beside fastText's
  rows_per_s, and bytes/s beside `wc -w` over the same file.
* one-core: `stance train` on UKP train and `stance classify` on UKP dev text with
  RAYON_NUM_THREADS=1 beside the default thread count.
* growth: UKP train replicated 1x, 2x, 4x, 8x (--growth-max), `stance train` time and peak RSS,
  and `stance classify` (with the 1x model) over the UKP dev text replicated as many times.

Dev split rule for data sets without a `dev` split (SemEval-2016, BBC, Reuters, 20 Newsgroups;
their `test` split is withheld and never read): only `train` rows are used. Rows are grouped by
their text with whitespace collapsed, so identical texts never straddle train and dev; a group
belongs to the stratum (label tuple: topic, plus stance where the file has one) of its first row
in file order. Within each stratum the groups are ordered by the SHA-256 hex digest of
"stance-bench-v1:" + the collapsed text, and taken into dev in that order while the stratum's
dev count plus the group's size stays at most round(0.2 * stratum rows); the rest is train.
The derived CSV (split column rewritten to train/dev) goes to a temporary folder, never into
the repository. UKP has its own dev split and is used as is.
"""
import argparse
import collections
import csv
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

csv.field_size_limit(sys.maxsize)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

SPLIT_SEED = "stance-bench-v1"
DEV_FRACTION = 0.2
MISSING_COL = "no_such_column__bench"

DATASETS = collections.OrderedDict([
    ("ukp", {"dir": "ukp_sentential_argmin", "name": "UKP Sentential Argument Mining"}),
    ("semeval", {"dir": "semeval2016_task6", "name": "SemEval-2016 Task 6"}),
    ("bbc", {"dir": "bbc_news", "name": "BBC News"}),
    ("reuters", {"dir": "reuters21578_modapte", "name": "Reuters-21578 ModApte (single-label)",
                 "slow": True}),
    ("20ng", {"dir": "20newsgroups_bydate", "name": "20 Newsgroups (bydate)", "slow": True}),
])

# task -> (data set, label column, peers also run with --per-topic)
TASKS = collections.OrderedDict([
    ("ukp-stance", ("ukp", "stance", False)),
    ("ukp-topic", ("ukp", "topic", False)),
    ("semeval-stance", ("semeval", "stance", True)),
    ("semeval-topic", ("semeval", "topic", False)),
    ("bbc-topic", ("bbc", "topic", False)),
    ("reuters-topic", ("reuters", "topic", False)),
    ("20ng-topic", ("20ng", "topic", False)),
])
EXTRAS = ("fnc-throughput", "one-core")
ALL_PEERS = ("sklearn-lr", "sklearn-svm", "fasttext", "fasttext-fast", "vw")
SLOW_PEER_PREFIX = "sklearn-"
GROWTH_FACTORS = (1, 2, 4, 8)

START = time.time()


def log(msg):
    el = time.time() - START
    sys.stderr.write("[bench %5.0fs] %s\n" % (el, msg))
    sys.stderr.flush()


# ---------------------------------------------------------------- processes

class Proc(object):
    def __init__(self, cmd, rc, wall, maxrss_kb, cpu_s, stdout, stderr, env_note):
        self.cmd, self.rc, self.wall, self.maxrss_kb = cmd, rc, wall, maxrss_kb
        self.cpu_s, self.stdout, self.stderr, self.env_note = cpu_s, stdout, stderr, env_note

    @property
    def ok(self):
        return self.rc == 0

    def record(self):
        return {"cmd": self.cmd, "env": self.env_note, "rc": self.rc, "wall_s": round(self.wall, 4),
                "peak_rss_mb": round(self.maxrss_kb / 1024.0, 1), "cpu_s": round(self.cpu_s, 3)}


# Children are started by a small launcher process, itself started before the harness reads any
# data: on Linux a child's ru_maxrss includes the RSS of the process it was forked from at the time
# of exec, so children forked from the harness (which holds CSV files in memory) would report the
# harness's size. The launcher's own size (the "RSS floor", measured with `true` at start-up and
# printed in the report) is the smallest peak any child can show.
LAUNCHER = r"""
import json, os, signal, sys, time
cur = [0]
def on_alarm(signum, frame):
    if cur[0]:
        try:
            os.kill(cur[0], signal.SIGKILL)
        except OSError:
            pass
signal.signal(signal.SIGALRM, on_alarm)
for line in sys.stdin:
    req = json.loads(line)
    env = dict(os.environ)
    env.update(req.get("env") or {})
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_RDONLY); os.dup2(fd, 0)
            fd = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.dup2(fd, 1)
            fd = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.dup2(fd, 2)
            os.execvpe(req["cmd"][0], req["cmd"], env)
        except BaseException as e:
            try:
                os.write(2, ("cannot run %r: %s\n" % (req["cmd"][0], e)).encode())
            finally:
                os._exit(127)
    cur[0] = pid
    if req.get("timeout"):
        signal.setitimer(signal.ITIMER_REAL, float(req["timeout"]))
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    signal.setitimer(signal.ITIMER_REAL, 0)
    cur[0] = 0
    if os.WIFEXITED(status):
        rc = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        rc = -os.WTERMSIG(status)
    else:
        rc = status
    sys.stdout.write(json.dumps({"rc": rc, "wall": wall, "maxrss_kb": ru.ru_maxrss,
                                 "cpu_s": ru.ru_utime + ru.ru_stime}) + "\n")
    sys.stdout.flush()
"""


class Launcher(object):
    def __init__(self, workdir):
        self.workdir = os.path.join(workdir, "proc")
        os.makedirs(self.workdir, exist_ok=True)
        self.n = 0
        self.p = subprocess.Popen([sys.executable, "-S", "-E", "-c", LAUNCHER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, universal_newlines=True, bufsize=1)

    def run(self, cmd, env_extra=None, capture=True, timeout=None):
        self.n += 1
        out = os.path.join(self.workdir, "%d.out" % self.n) if capture else os.devnull
        err = os.path.join(self.workdir, "%d.err" % self.n)
        req = {"cmd": cmd, "env": env_extra or {}, "out": out, "err": err, "timeout": timeout}
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the launcher process died")
        rep = json.loads(line)
        stdout = ""
        if capture:
            with open(out, encoding="utf-8", errors="replace") as f:
                stdout = f.read()
            os.unlink(out)
        with open(err, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
        os.unlink(err)
        return rep, stdout, stderr

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


LAUNCH = [None]


def run_measured(cmd, env_extra=None, capture=True, timeout=None):
    """Run cmd as a child of the launcher: wall seconds, peak RSS (ru_maxrss, KB on Linux, from
    os.wait4) and user + system CPU seconds of that child."""
    rep, stdout, stderr = LAUNCH[0].run(cmd, env_extra, capture, timeout)
    note = " ".join("%s=%s" % kv for kv in sorted((env_extra or {}).items()))
    return Proc(cmd, rep["rc"], rep["wall"], rep["maxrss_kb"], rep["cpu_s"], stdout, stderr, note)


def fail_note(proc):
    tail = proc.stderr.strip().splitlines()[-3:]
    return "exit %s: %s" % (proc.rc, " | ".join(tail) if tail else "(no stderr)")


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- data

def collapse(text):
    return " ".join(text.split())


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = csv.DictReader(f)
        return r.fieldnames, list(r)


def derive_dev_split(rows, strat_cols):
    """The fixed, seeded, stratified 80/20 split of the module docstring. Returns the dev ids."""
    groups = collections.OrderedDict()  # collapsed text -> list of rows (file order)
    for row in rows:
        groups.setdefault(collapse(row["text"]), []).append(row)
    strata = collections.OrderedDict()  # stratum -> list of (digest, size, group)
    for text, members in groups.items():
        key = tuple((members[0].get(c) or "").strip() for c in strat_cols)
        digest = hashlib.sha256((SPLIT_SEED + ":" + text).encode("utf-8")).hexdigest()
        strata.setdefault(key, []).append((digest, len(members), members))
    dev_ids = set()
    for key, items in strata.items():
        n = sum(size for _, size, _ in items)
        quota = int(round(DEV_FRACTION * n))
        taken = 0
        for _, size, members in sorted(items, key=lambda t: t[0]):
            if taken + size <= quota:
                taken += size
                dev_ids.update(m["id"] for m in members)
    return dev_ids


class Prepared(object):
    """One data set with a train and a dev split, and its dev texts as a paragraph file."""

    def __init__(self, key, csv_path, derived, counts, dev_text_path, dev_paragraphs, columns):
        self.key, self.csv, self.derived, self.counts = key, csv_path, derived, counts
        self.dev_text, self.dev_paragraphs, self.columns = dev_text_path, dev_paragraphs, columns


def prepare(key, data_root, tmp, cache):
    if key in cache:
        return cache[key]
    info = DATASETS[key]
    src = os.path.join(data_root, info["dir"], "data.csv")
    log("preparing %s (%s)" % (key, src))
    cols, rows = read_csv(src)
    splits = collections.Counter(r["split"] for r in rows)
    strat_cols = [c for c in ("topic", "stance") if c in cols]
    if splits.get("dev"):
        csv_path, derived = src, False
        train = [r for r in rows if r["split"] == "train"]
        dev = [r for r in rows if r["split"] == "dev"]
    else:
        train_rows = [r for r in rows if r["split"] == "train"]
        dev_ids = derive_dev_split(train_rows, strat_cols)
        ddir = os.path.join(tmp, "data", info["dir"])  # same folder name: peer.py reports it
        os.makedirs(ddir, exist_ok=True)
        csv_path = os.path.join(ddir, "data.csv")
        train, dev = [], []
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in train_rows:
                r = dict(r)
                r["split"] = "dev" if r["id"] in dev_ids else "train"
                (dev if r["split"] == "dev" else train).append(r)
                w.writerow(r)
        derived = True
    counts = {"source_splits": dict(splits), "train": len(train), "dev": len(dev),
              "stratified_by": strat_cols if derived else None}
    tdir = os.path.join(tmp, "text")
    os.makedirs(tdir, exist_ok=True)
    dev_text = os.path.join(tdir, key + "_dev.txt")
    paras = [collapse(r["text"]) for r in dev]
    paras = [p for p in paras if p]
    with open(dev_text, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n".join(paras) + "\n")
    p = Prepared(key, csv_path, derived, counts, dev_text, len(paras), cols)
    cache[key] = p
    log("  %s: train %d, dev %d%s" % (key, len(train), len(dev), " (derived split)" if derived else ""))
    return p


# ---------------------------------------------------------------- stance

def parse_train_stdout(text):
    out = {}
    m = re.search(r"vocabulary:\s*(\d+)", text)
    if m:
        out["vocabulary"] = int(m.group(1))
    m = re.search(r"trained in\s*([0-9.]+)\s*s", text)
    if m:
        out["trained_in_s"] = float(m.group(1))
    for head, it in re.findall(r"(\w+) head:[^\n]*?(\d+) iterations", text):
        out["%s_iterations" % head] = int(it)
    return out


def count_statements(args, model, text_path, env_extra=None):
    p = run_measured([args.stance_bin, "classify", "--model", model, "--format", "jsonl", text_path],
                     env_extra=env_extra, timeout=args.timeout)
    if not p.ok:
        return None, p
    return sum(1 for line in p.stdout.splitlines() if line.strip()), p


def stance_system(args, task, prep, label, variant, tmp, cache):
    """Train, eval, classify --runs times. variant: 'main' or 'no-topic'."""
    name = "stance" if variant == "main" else "stance (no topic)"
    model = os.path.join(tmp, "models", "%s-%s.model" % (task, variant))
    os.makedirs(os.path.dirname(model), exist_ok=True)
    train_cmd = [args.stance_bin, "train", "--data", prep.csv, "--split", "train", "--model", model]
    heads = "topic+stance" if "stance" in prep.columns and "topic" in prep.columns else label
    if label == "topic" and "stance" in prep.columns:
        train_cmd += ["--only", "topic"]
        heads = "topic"
    if variant == "no-topic":
        train_cmd += ["--only", "stance", "--no-topic-features"]
        heads = "stance"
    eval_cmd = [args.stance_bin, "eval", "--model", model, "--data", prep.csv, "--split", "dev",
                "--format", "json"]
    classify_cmd = [args.stance_bin, "classify", "--model", model, "--format", "jsonl", prep.dev_text]
    res = {"system": name, "kind": "stance", "heads_trained": heads, "runs": [], "error": None,
           "commands": {"train": train_cmd, "eval": eval_cmd,
                        "classify": classify_cmd + [">", "/dev/null"]}}
    metrics = None
    for i in range(args.runs):
        log("[%s] %s run %d/%d: train" % (task, name, i + 1, args.runs))
        tr = run_measured(train_cmd, timeout=args.timeout)
        if not tr.ok:
            res["error"] = "train " + fail_note(tr)
            log("  FAILED: " + res["error"])
            return res
        log("[%s] %s run %d/%d: eval" % (task, name, i + 1, args.runs))
        ev = run_measured(eval_cmd, timeout=args.timeout)
        if not ev.ok:
            res["error"] = "eval " + fail_note(ev)
            log("  FAILED: " + res["error"])
            return res
        try:
            head = json.loads(ev.stdout)[label]
            m = {"accuracy": head["accuracy"], "macro_f1": head["macro_f1"],
                 "f_avg": head.get("f_avg"), "eval_rows": head.get("rows")}
        except (ValueError, KeyError, TypeError) as e:
            res["error"] = "eval output not understood: %r" % (e,)
            return res
        if metrics is not None and m != metrics:
            res.setdefault("notes", []).append("eval figures differ between runs")
        metrics = metrics or m
        log("[%s] %s run %d/%d: classify" % (task, name, i + 1, args.runs))
        cl = run_measured(classify_cmd, capture=False, timeout=args.timeout)
        if not cl.ok:
            res["error"] = "classify " + fail_note(cl)
            log("  FAILED: " + res["error"])
            return res
        run = {"train": tr.record(), "eval": ev.record(), "classify": cl.record(), "metrics": m}
        run["train"].update(parse_train_stdout(tr.stdout))
        res["runs"].append(run)
    n_statements, _ = count_statements(args, model, prep.dev_text)
    res["metrics"] = metrics
    med = {
        "fit_s": median(r["train"]["wall_s"] for r in res["runs"]),
        "fit_cpu_s": median(r["train"]["cpu_s"] for r in res["runs"]),
        "trained_in_s": median(r["train"].get("trained_in_s") for r in res["runs"]),
        "train_rss_mb": median(r["train"]["peak_rss_mb"] for r in res["runs"]),
        "eval_s": median(r["eval"]["wall_s"] for r in res["runs"]),
        "classify_s": median(r["classify"]["wall_s"] for r in res["runs"]),
        "classify_rss_mb": median(r["classify"]["peak_rss_mb"] for r in res["runs"]),
    }
    med["peak_rss_mb"] = max(med["train_rss_mb"], med["classify_rss_mb"])
    med["rows"] = prep.dev_paragraphs
    med["statements"] = n_statements
    med["rows_per_s"] = prep.dev_paragraphs / med["classify_s"] if med["classify_s"] else None
    med["statements_per_s"] = (n_statements / med["classify_s"]) if n_statements and med["classify_s"] else None
    res["median"] = med
    res["n_runs"] = len(res["runs"])
    res["model_path"] = model
    return res


# ---------------------------------------------------------------- peers

def peer_system(args, task, prep, label, peer, per_topic):
    name = peer + (" --per-topic" if per_topic else "")
    slow = DATASETS[prep.key].get("slow") and peer.startswith(SLOW_PEER_PREFIX)
    n = args.runs_slow if slow else args.runs
    cmd = [args.peer_python, args.peer_script, "--data", prep.csv, "--peer", peer, "--label", label,
           "--train", "train", "--test", "dev"] + (["--per-topic"] if per_topic else [])
    res = {"system": name, "kind": "peer", "runs": [], "error": None, "command": cmd,
           "slow": bool(slow)}
    for i in range(n):
        log("[%s] %s run %d/%d" % (task, name, i + 1, n))
        p = run_measured(cmd, timeout=args.timeout)
        if not p.ok:
            res["error"] = fail_note(p)
            log("  FAILED: " + res["error"])
            break
        try:
            out = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError) as e:
            res["error"] = "output not understood: %r" % (e,)
            break
        out["process"] = p.record()
        res["runs"].append(out)
        log("  fit %.2fs, acc %.4f" % (out.get("fit_s", 0), out.get("accuracy", 0)))
    res["n_runs"] = len(res["runs"])
    if res["runs"]:
        rs = res["runs"]
        res["metrics"] = {k: median(r.get(k) for r in rs) for k in ("accuracy", "macro_f1", "f_avg")}
        res["median"] = {
            "fit_s": median(r.get("fit_s") for r in rs),
            "predict_s": median(r.get("predict_s") for r in rs),
            "rows_per_s": median(r.get("rows_per_s") for r in rs),
            "peak_rss_mb": median(r.get("peak_rss_mb") for r in rs),
            "process_wall_s": median(r["process"]["wall_s"] for r in rs),
            "process_rss_mb": median(r["process"]["peak_rss_mb"] for r in rs),
            "rows": rs[0].get("test_rows"),
        }
        accs = set(r.get("accuracy") for r in rs)
        if len(accs) > 1:
            res.setdefault("notes", []).append("accuracy varies between runs: %s" % sorted(accs))
    return res


# ---------------------------------------------------------------- sections

def run_task(args, task, tmp, cache):
    key, label, per_topic = TASKS[task]
    prep = prepare(key, args.data_root, tmp, cache)
    out = {"task": task, "dataset": DATASETS[key]["name"], "dataset_dir": DATASETS[key]["dir"],
           "label": label, "split": prep.counts, "derived_split": prep.derived,
           "dev_paragraphs": prep.dev_paragraphs, "systems": []}
    out["loadavg_before"] = os.getloadavg()
    main = stance_system(args, task, prep, label, "main", tmp, cache)
    out["systems"].append(main)
    if task == "ukp-stance" and main.get("median"):
        cache.setdefault("ukp_model", main["model_path"])  # UKP train, both heads, defaults
    if label == "stance" and not args.no_stance_variant:
        out["systems"].append(stance_system(args, task, prep, label, "no-topic", tmp, cache))
    for peer in args.peers:
        out["systems"].append(peer_system(args, task, prep, label, peer, False))
        if per_topic:
            out["systems"].append(peer_system(args, task, prep, label, peer, True))
    return out


def ukp_model(args, tmp, cache):
    """A UKP model (both heads, train split) for the throughput sections; trained once, untimed."""
    if "ukp_model" in cache:
        return cache["ukp_model"]
    prep = prepare("ukp", args.data_root, tmp, cache)
    model = os.path.join(tmp, "models", "ukp-throughput.model")
    os.makedirs(os.path.dirname(model), exist_ok=True)
    log("training the UKP model for throughput sections")
    p = run_measured([args.stance_bin, "train", "--data", prep.csv, "--split", "train", "--model", model],
                     timeout=args.timeout)
    if not p.ok:
        raise RuntimeError("stance train on UKP failed: " + fail_note(p))
    cache["ukp_model"] = model
    return model


def timed_runs(args, label, cmd, n, capture=False, env_extra=None):
    recs = []
    for i in range(n):
        log("%s run %d/%d" % (label, i + 1, n))
        p = run_measured(cmd, env_extra=env_extra, capture=capture, timeout=args.timeout)
        if not p.ok:
            raise RuntimeError("%s failed: %s" % (label, fail_note(p)))
        r = p.record()
        if capture:
            r.update(parse_train_stdout(p.stdout))
        recs.append(r)
    return {"runs": recs, "wall_s": median(r["wall_s"] for r in recs),
            "cpu_s": median(r["cpu_s"] for r in recs),
            "peak_rss_mb": median(r["peak_rss_mb"] for r in recs),
            "vocabulary": recs[0].get("vocabulary")}


def run_fnc(args, tmp, cache, results):
    src = os.path.join(args.data_root, "fnc1_articles", "articles.csv")
    _, rows = read_csv(src)
    texts = [r["text"].strip() for r in rows if r["text"].strip()]
    path = os.path.join(tmp, "text", "fnc1_articles.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n\n".join(texts) + "\n")
    size = os.path.getsize(path)
    model = ukp_model(args, tmp, cache)
    n_statements, _ = count_statements(args, model, path)
    cl = timed_runs(args, "[fnc-throughput] stance classify",
                    [args.stance_bin, "classify", "--model", model, "--format", "jsonl", path], args.runs)
    wc = timed_runs(args, "[fnc-throughput] wc -w", ["wc", "-w", path], args.runs)
    ft = None
    for task in ("ukp-stance", "ukp-topic", "semeval-stance", "semeval-topic", "bbc-topic",
                 "reuters-topic", "20ng-topic"):
        for s in results.get("tasks", {}).get(task, {}).get("systems", []):
            if s["system"] == "fasttext" and s.get("median"):
                ft = {"task": task, "rows_per_s": s["median"]["rows_per_s"], "n_runs": s["n_runs"]}
                break
        if ft:
            break
    return {"articles": len(texts), "bytes": size, "statements": n_statements,
            "model": "UKP train, both heads", "classify": cl, "wc": wc,
            "statements_per_s": n_statements / cl["wall_s"] if n_statements else None,
            "articles_per_s": len(texts) / cl["wall_s"],
            "bytes_per_s": size / cl["wall_s"], "wc_bytes_per_s": size / wc["wall_s"],
            "fasttext": ft}


def run_one_core(args, tmp, cache):
    prep = prepare("ukp", args.data_root, tmp, cache)
    out = {"threads_default": os.cpu_count(), "configs": []}
    model = cache.get("ukp_model")
    for label, env in (("default threads", None), ("RAYON_NUM_THREADS=1", {"RAYON_NUM_THREADS": "1"})):
        m = os.path.join(tmp, "models", "ukp-onecore-%s.model" % ("1" if env else "default"))
        os.makedirs(os.path.dirname(m), exist_ok=True)
        tr = timed_runs(args, "[one-core] %s: stance train" % label,
                        [args.stance_bin, "train", "--data", prep.csv, "--split", "train", "--model", m],
                        args.runs, capture=True, env_extra=env)
        if model is None:
            model = cache["ukp_model"] = m
        cl = timed_runs(args, "[one-core] %s: stance classify" % label,
                        [args.stance_bin, "classify", "--model", model, "--format", "jsonl", prep.dev_text],
                        args.runs, env_extra=env)
        out["configs"].append({"config": label, "env": env or {}, "train": tr, "classify": cl})
    out["rows"] = prep.counts["train"]
    out["dev_paragraphs"] = prep.dev_paragraphs
    out["statements"], _ = count_statements(args, model, prep.dev_text)
    return out


def run_growth(args, tmp, cache):
    """UKP train replicated k times. Two training set-ups: `default` (the defaults, min-df 2,
    alpha 0.3, topic alpha 1: what a user runs) and `scaled` (--min-df 2k --alpha 0.3k
    --topic-alpha 1k: the same common vocabulary as 1x and, since the loss is a sum over rows,
    about the same minimiser, so mainly the row count grows).
    At 1x both are the same run. classify: the 1x model over the dev texts written k times."""
    prep = prepare("ukp", args.data_root, tmp, cache)
    cols, rows = read_csv(prep.csv)
    train = [r for r in rows if r["split"] == "train"]
    del rows
    with open(prep.dev_text, encoding="utf-8") as f:
        dev_text = f.read().strip("\n")
    gdir = os.path.join(tmp, "growth")
    os.makedirs(gdir, exist_ok=True)
    factors = [k for k in GROWTH_FACTORS if k <= args.growth_max]
    out = {"factors": []}
    base_model = None
    for k in factors:
        csv_path = os.path.join(gdir, "ukp_train_x%d.csv" % k)
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for j in range(k):
                for r in train:
                    r = dict(r)
                    if j:
                        r["id"] = "%s#r%d" % (r["id"], j)
                    w.writerow(r)
        txt = os.path.join(gdir, "ukp_dev_x%d.txt" % k)
        with open(txt, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n\n".join([dev_text] * k) + "\n")
        entry = {"factor": k, "train_rows": len(train) * k, "text_bytes": os.path.getsize(txt)}
        setups = [("default", [])]
        if k > 1:
            setups.append(("scaled", ["--min-df", str(2 * k), "--alpha", repr(0.3 * k),
                                      "--topic-alpha", repr(1.0 * k)]))
        for setup, extra in setups:
            model = os.path.join(gdir, "ukp_x%d_%s.model" % (k, setup))
            cmd = [args.stance_bin, "train", "--data", csv_path, "--split", "train", "--model", model] + extra
            entry[setup] = timed_runs(args, "[growth] %dx %s: stance train" % (k, setup), cmd, args.runs,
                                      capture=True)
            entry[setup]["command"] = cmd
            if base_model is None:
                base_model = model
            elif model != base_model:
                os.unlink(model)
        if k == 1:
            entry["scaled"] = entry["default"]
        entry["statements"], _ = count_statements(args, base_model, txt)
        entry["classify"] = timed_runs(args, "[growth] %dx: stance classify" % k,
                                       [args.stance_bin, "classify", "--model", base_model, "--format",
                                        "jsonl", txt], args.runs)
        out["factors"].append(entry)
        os.unlink(csv_path)
        os.unlink(txt)
    return out


# ---------------------------------------------------------------- machine info

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def machine_info(args):
    info = {"nproc": os.cpu_count(), "platform": platform.platform(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        info["cpu"] = names[0] if names else None
    except OSError:
        info["cpu"] = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_gb"] = round(int(line.split()[1]) / 1024.0 / 1024.0, 1)
    except OSError:
        pass

    def sh(cmd):
        try:
            return subprocess.check_output(cmd, stderr=subprocess.DEVNULL).decode().strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    info["stance_commit"] = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    info["stance_tree_dirty"] = bool(dirty)
    info["stance_version"] = sh([args.stance_bin, "--version"])
    info["stance_bin"] = args.stance_bin_source
    info["stance_bin_sha256"] = sha256_file(args.stance_bin)
    try:
        info["stance_bin_mtime"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(args.stance_bin_source)).astimezone().isoformat(timespec="seconds")
    except OSError:
        pass
    if args.peers:
        v = sh([args.peer_python, "-c",
                "import json, platform, importlib.metadata as m\n"
                "d = {'python': platform.python_version()}\n"
                "for p in ('scikit-learn', 'fasttext-wheel', 'vowpalwabbit', 'numpy', 'scipy'):\n"
                "    try: d[p] = m.version(p)\n"
                "    except Exception: pass\n"
                "print(json.dumps(d))"])
        try:
            info["peers"] = json.loads(v) if v else None
        except ValueError:
            info["peers"] = None
    return info


# ---------------------------------------------------------------- report

def f3(x):
    return "—" if x is None else "%.3f" % x


def fsec(x):
    if x is None:
        return "—"
    if x < 1:
        return "%.3f" % x
    if x < 10:
        return "%.2f" % x
    if x < 100:
        return "%.1f" % x
    return "%.0f" % x


def fint(x):
    return "—" if x is None else "{:,}".format(int(round(x)))


def fratio(a, b):
    if a is None or not b:
        return "—"
    r = a / b
    if r < 0.1:
        return "%.3f" % r
    return "%.2f" % r if r < 10 else "%.1f" % r


def md_task(t, runs):
    lines = []
    split = t["split"]
    lines.append("### %s: %s, %s" % (t["task"], t["dataset"], t["label"]))
    lines.append("")
    if t["derived_split"]:
        lines.append("Train %s rows, dev %s rows (derived seeded 80/20 split of `train`, stratified by %s)."
                     % (fint(split["train"]), fint(split["dev"]), " + ".join(split["stratified_by"])))
    else:
        lines.append("Train %s rows, dev %s rows (the data set's own `dev` split)."
                     % (fint(split["train"]), fint(split["dev"])))
    lines.append("")
    lines.append("| system | accuracy | macro-F1 | F_avg | fit s | predict rows/s | peak RSS MB "
                 "| fit ratio stance/peer | RSS ratio stance/peer |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    main = next((s for s in t["systems"] if s["system"] == "stance" and s.get("median")), None)
    few = False
    notes = []
    for s in t["systems"]:
        if s.get("error") and not s.get("median"):
            lines.append("| %s | failed: %s | | | | | | | |" % (s["system"], s["error"].replace("|", "/")))
            continue
        m, med = s.get("metrics") or {}, s.get("median") or {}
        mark = ""
        if s.get("n_runs", 0) < runs:
            mark = " †"
            few = True
        fit, rss = med.get("fit_s"), med.get("peak_rss_mb")
        if s["kind"] == "peer" and main:
            fr = fratio(main["median"]["fit_s"], fit)
            rr = fratio(main["median"]["peak_rss_mb"], rss)
        else:
            fr = rr = "—"
        name = s["system"]
        if s["kind"] == "stance":
            name = "**%s**" % name
        lines.append("| %s | %s | %s | %s | %s%s | %s%s | %s%s | %s | %s |" % (
            name, f3(m.get("accuracy")), f3(m.get("macro_f1")), f3(m.get("f_avg")),
            fsec(fit), mark, fint(med.get("rows_per_s")), mark, fint(rss), mark, fr, rr))
        if s.get("error"):
            notes.append("%s: a later run failed (%s)" % (s["system"], s["error"]))
        for n in s.get("notes", []):
            notes.append("%s: %s" % (s["system"], n))
    lines.append("")
    if few:
        lines.append("† median of fewer runs than %d (`--runs-slow` for scikit-learn peers on "
                     "Reuters and 20 Newsgroups, or a failed run); the run count is in results.json."
                     % runs)
        lines.append("")
    for s in t["systems"]:
        if s["kind"] == "stance" and s.get("median"):
            med = s["median"]
            lines.append("- %s (%s head%s): `stance train` %s s wall (its own \"trained in\" %s s, "
                         "CPU %s s), peak RSS %s MB; `stance eval` %s s; `stance classify` %s s for "
                         "%s dev texts = %s statements (%s statements/s), peak RSS %s MB." % (
                             s["system"], s["heads_trained"],
                             "s" if "+" in s["heads_trained"] else "",
                             fsec(med["fit_s"]), fsec(med.get("trained_in_s")), fsec(med["fit_cpu_s"]),
                             fint(med["train_rss_mb"]), fsec(med["eval_s"]), fsec(med["classify_s"]),
                             fint(med["rows"]), fint(med["statements"]), fint(med["statements_per_s"]),
                             fint(med["classify_rss_mb"])))
    for n in notes:
        lines.append("- " + n)
    lines.append("")
    return lines


def write_markdown(path, results, args):
    mi = results["machine"]
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append("Produced by:")
    L.append("")
    L.append("```sh")
    L.append(results["command"])
    L.append("```")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("- date: %s; harness took %s s" % (mi["date"], fsec(results.get("elapsed_s"))))
    L.append("- nproc: %s; CPU: %s; memory: %s GB; %s" % (mi["nproc"], mi.get("cpu"), mi.get("mem_gb"),
                                                         mi["platform"]))
    L.append("- stance: commit %s%s, %s, binary `%s` (modified %s, sha256 %s…; a copy taken at start "
             "is what was measured)" % (
                 mi.get("stance_commit"),
                 " (working tree has uncommitted changes: the binary may not match the commit)"
                 if mi.get("stance_tree_dirty") else "",
                 mi.get("stance_version"), mi.get("stance_bin"), mi.get("stance_bin_mtime"),
                 (mi.get("stance_bin_sha256") or "")[:12]))
    if mi.get("stance_bin_changed_during_run"):
        L.append("- **note**: `%s` was rebuilt during the run; the figures are from the copy taken at "
                 "start." % mi.get("stance_bin"))
    if mi.get("peers"):
        L.append("- peers: Python %s, %s" % (mi["peers"].get("python"), ", ".join(
            "%s %s" % (k, v) for k, v in sorted(mi["peers"].items()) if k != "python")))
    L.append("- load average (1, 5, 15 min) at start: %s; at end: %s; peak RSS floor of the launcher "
             "that starts every measured process: %s MB (no child can show less)" % (
                 ", ".join("%.2f" % x for x in mi["loadavg_start"]),
                 ", ".join("%.2f" % x for x in mi.get("loadavg_end", [])) or "?", results.get("rss_floor_mb")))
    if mi["loadavg_start"][0] > 0.5:
        L.append("- **warning**: the machine was not idle at start (1-minute load %.2f on %s cores); "
                 "other processes competed for the cores, so wall times are inflated and noisy."
                 % (mi["loadavg_start"][0], mi["nproc"]))
    L.append("- runs per figure: %d (scikit-learn peers on Reuters and 20 Newsgroups: %d)"
             % (args.runs, args.runs_slow))
    L.append("")
    L.append("## How to read the tables")
    L.append("")
    L.append("- Every system trains on `train` and is scored on `dev`; `test` splits are withheld and "
             "never read. Data sets without a `dev` split get a derived one: only `train` rows, grouped "
             "by whitespace-collapsed text so identical texts stay on one side, stratified by label "
             "(topic, and stance where present); within a stratum groups are ordered by "
             "SHA-256(\"%s:\" + text) and moved to dev while the stratum's dev count stays at most "
             "round(0.2 × its rows). Deterministic; no randomness beyond the hash." % SPLIT_SEED)
    L.append("- **stance**: whole processes, median wall time over the runs. *fit s* is the wall time of "
             "`stance train` (reading the CSV, features, L-BFGS, writing the model). For a stance task "
             "both heads are trained (the stance head uses the topic column), so fit covers both heads; "
             "for a topic task only the topic head is trained (`--only topic`). "
             "*predict rows/s* is dev texts / wall time of `stance classify --format jsonl FILE > "
             "/dev/null` over the dev texts written one per paragraph (whitespace collapsed), model "
             "loading, sentence splitting and output included; a long text (BBC, Reuters, 20 "
             "Newsgroups) is split into several statements, so statements/s is given under the table. "
             "*peak RSS* is the larger of the train and classify children's ru_maxrss (os.wait4). "
             "Accuracy, macro-F1 and F_avg come from `stance eval --format json` (for a stance task the "
             "row's gold topic is given to the stance head).")
    L.append("- **stance (no topic)**: a stance head alone (`--only stance --no-topic-features`), the "
             "like of the plain peers, which do not see the topic.")
    L.append("- **peers**: `peer.py` figures measured inside its process (fit_s: vectorising + "
             "training; rows_per_s: prediction over the dev rows, model already in memory; peak_rss_mb: "
             "the Python process's ru_maxrss), medians over the runs. `--per-topic` trains one model "
             "per gold topic and predicts row by row, so its rows/s is not comparable to the others.")
    L.append("- *fit ratio* and *RSS ratio* are the stance row divided by the peer row: below 1 means "
             "stance is faster / smaller.")
    L.append("")
    L.append("## Tasks")
    L.append("")
    if not results.get("tasks"):
        L.append("(no tasks run)")
        L.append("")
    for task, t in results.get("tasks", {}).items():
        L.extend(md_task(t, args.runs))

    g = results.get("growth")
    L.append("## Growth: UKP train replicated")
    L.append("")
    if not g:
        L.append("(not run: --skip-growth, or it failed)")
        L.append("")
    else:
        L.append("UKP train (%s rows) written k times (copies get distinct ids), `stance train` (both "
                 "heads) on it; median of %d runs. *default*: the default options (min-df 2, alpha 0.3, "
                 "topic alpha 1), what a user runs; replication lifts every term's document frequency "
                 "to at least k, so from 2x on min-df 2 keeps every term and the logistic heads' "
                 "vocabulary jumps. *scaled*: `--min-df 2k --alpha 0.3k --topic-alpha 1k`, which keeps "
                 "the 1x common vocabulary and (the loss being a sum over rows) about the 1x minimiser, "
                 "so mainly the row count grows. The vocabulary column counts all terms, those kept "
                 "for the topic head's naive Bayes scores included. Iterations are L-BFGS iterations of the "
                 "topic / stance heads. `stance classify` runs the 1x model over the UKP dev texts "
                 "written k times." % (fint(g["factors"][0]["train_rows"]) if g["factors"] else "?",
                                       args.runs))
        L.append("")
        L.append("| k | train rows | set-up | vocabulary | iterations | train s | ×1x | train RSS MB | ×1x |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        b = g["factors"][0] if g["factors"] else None
        for f in g["factors"]:
            for setup in ("default", "scaled"):
                if f["factor"] == 1 and setup == "scaled":
                    continue
                tr = f[setup]
                it = tr["runs"][0] if tr.get("runs") else {}
                L.append("| %dx | %s | %s | %s | %s / %s | %s | %s | %s | %s |" % (
                    f["factor"], fint(f["train_rows"]),
                    "both (1x)" if f["factor"] == 1 else setup, fint(tr.get("vocabulary")),
                    it.get("topic_iterations", "—"), it.get("stance_iterations", "—"),
                    fsec(tr["wall_s"]), fratio(tr["wall_s"], b["default"]["wall_s"]),
                    fint(tr["peak_rss_mb"]), fratio(tr["peak_rss_mb"], b["default"]["peak_rss_mb"])))
        L.append("")
        L.append("| k | text MB | statements | classify s | ×1x | statements/s | classify RSS MB | ×1x |")
        L.append("|---|---|---|---|---|---|---|---|")
        for f in g["factors"]:
            cl = f["classify"]
            L.append("| %dx | %.1f | %s | %s | %s | %s | %s | %s |" % (
                f["factor"], f["text_bytes"] / 1e6, fint(f["statements"]), fsec(cl["wall_s"]),
                fratio(cl["wall_s"], b["classify"]["wall_s"]),
                fint(f["statements"] / cl["wall_s"] if f["statements"] else None),
                fint(cl["peak_rss_mb"]), fratio(cl["peak_rss_mb"], b["classify"]["peak_rss_mb"])))
        L.append("")

    oc = results.get("one_core")
    L.append("## One core")
    L.append("")
    if not oc:
        L.append("(not run: `one-core` not in --tasks, or it failed)")
        L.append("")
    else:
        L.append("UKP: `stance train` on train (%s rows, both heads) and `stance classify` over the dev "
                 "texts (%s paragraphs, %s statements); median of %d runs; CPU = user + system seconds "
                 "of the child." % (fint(oc["rows"]), fint(oc["dev_paragraphs"]), fint(oc["statements"]),
                                     args.runs))
        L.append("")
        L.append("| threads | train s | train CPU s | train RSS MB | classify s | classify CPU s "
                 "| statements/s | classify RSS MB |")
        L.append("|---|---|---|---|---|---|---|---|")
        for c in oc["configs"]:
            tr, cl = c["train"], c["classify"]
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                c["config"] if c["env"] else "default (nproc = %s)" % oc["threads_default"],
                fsec(tr["wall_s"]), fsec(tr["cpu_s"]), fint(tr["peak_rss_mb"]), fsec(cl["wall_s"]),
                fsec(cl["cpu_s"]), fint(oc["statements"] / cl["wall_s"] if oc["statements"] else None),
                fint(cl["peak_rss_mb"])))
        if len(oc["configs"]) == 2:
            a, b = oc["configs"]
            L.append("")
            L.append("One thread / default: train %s×, classify %s×." % (
                fratio(b["train"]["wall_s"], a["train"]["wall_s"]),
                fratio(b["classify"]["wall_s"], a["classify"]["wall_s"])))
        L.append("")

    fn = results.get("fnc")
    L.append("## Throughput on news articles (FNC-1 bodies)")
    L.append("")
    if not fn:
        L.append("(not run: `fnc-throughput` not in --tasks, or it failed)")
        L.append("")
    else:
        L.append("%s article bodies (%s bytes) in one text file, blank lines between articles; "
                 "`stance classify --format jsonl` with a model trained on UKP train (both heads); "
                 "median of %d runs." % (fint(fn["articles"]), fint(fn["bytes"]), args.runs))
        L.append("")
        L.append("| what | wall s | statements/s | articles/s | MB/s | peak RSS MB |")
        L.append("|---|---|---|---|---|---|")
        L.append("| stance classify (%s statements) | %s | %s | %s | %.2f | %s |" % (
            fint(fn["statements"]), fsec(fn["classify"]["wall_s"]), fint(fn["statements_per_s"]),
            fint(fn["articles_per_s"]), fn["bytes_per_s"] / 1e6, fint(fn["classify"]["peak_rss_mb"])))
        L.append("| `wc -w` over the same file | %s | — | — | %.2f | %s |" % (
            fsec(fn["wc"]["wall_s"]), fn["wc_bytes_per_s"] / 1e6, fint(fn["wc"]["peak_rss_mb"])))
        if fn.get("fasttext"):
            ft = fn["fasttext"]
            L.append("| fastText prediction (peer.py rows_per_s on %s dev, in-process) | — | %s | — | — | — |"
                     % (ft["task"], fint(ft["rows_per_s"])))
        L.append("")
        L.append("stance bytes/s is %s of `wc -w`'s." % fratio(fn["bytes_per_s"], fn["wc_bytes_per_s"]))
        if fn.get("fasttext"):
            L.append("stance statements/s over fastText rows/s: %s (fastText's figure excludes loading "
                     "and sentence splitting; its rows are %s dev rows, not these articles)." % (
                         fratio(fn["statements_per_s"], fn["fasttext"]["rows_per_s"]), fn["fasttext"]["task"]))
        else:
            L.append("No fastText figure in this run (run a task with `--peers fasttext` to get one).")
        L.append("")

    if results.get("errors"):
        L.append("## Errors")
        L.append("")
        for k, v in results["errors"].items():
            L.append("- %s: %s" % (k, v))
        L.append("")
    L.append("## Where the time goes")
    L.append("")
    L.append("_To be filled by hand from a profile._")
    L.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


# ---------------------------------------------------------------- main

def parse_list(value, allowed, what):
    items = [x.strip() for x in value.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad:
        sys.exit("unknown %s: %s (choose from %s)" % (what, ", ".join(bad), ", ".join(allowed)))
    return items


def main():
    all_tasks = list(TASKS) + list(EXTRAS)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per figure, median taken (default 3)")
    ap.add_argument("--runs-slow", type=int, default=1,
                    help="runs for sklearn-* peers on Reuters and 20 Newsgroups (default 1)")
    ap.add_argument("--tasks", default="all",
                    help="comma list from: %s; or all (default)" % ", ".join(all_tasks))
    ap.add_argument("--peers", default="all", help="comma list from: %s; all (default) or none"
                    % ", ".join(ALL_PEERS))
    ap.add_argument("--skip-growth", action="store_true", help="skip the replicated-UKP growth experiment")
    ap.add_argument("--growth-max", type=int, default=8, help="largest replication factor (default 8)")
    ap.add_argument("--no-stance-variant", action="store_true",
                    help="leave out the 'stance (no topic)' row of stance tasks")
    ap.add_argument("--stance-bin", default=os.path.join(REPO, "target", "release", "stance"))
    ap.add_argument("--peer-python", default="/tmp/peers/bin/python",
                    help="python of the peers venv (bash /work/shared/peers/setup.sh DIR makes one)")
    ap.add_argument("--peer-script", default="/work/shared/peers/peer.py")
    ap.add_argument("--data-root", default="/work/shared/data")
    ap.add_argument("--out", default=os.path.join(REPO, "BENCHMARKS.md"))
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"), help="raw results (JSON)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds before a child is killed")
    ap.add_argument("--tmp", help="work folder (default: a new temporary folder, removed at the end)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the work folder")
    args = ap.parse_args()

    args.tasks = all_tasks if args.tasks == "all" else parse_list(args.tasks, all_tasks, "task")
    if args.peers == "all":
        args.peers = list(ALL_PEERS)
    elif args.peers == "none":
        args.peers = []
    else:
        args.peers = parse_list(args.peers, ALL_PEERS, "peer")
    if args.runs < 1 or args.runs_slow < 1:
        sys.exit("--runs and --runs-slow must be at least 1")
    args.stance_bin = os.path.abspath(args.stance_bin)
    if not os.access(args.stance_bin, os.X_OK):
        sys.exit("no stance binary at %s (build with cargo build --release, or pass --stance-bin)"
                 % args.stance_bin)
    if args.peers and any(t in TASKS for t in args.tasks) and not os.access(args.peer_python, os.X_OK):
        sys.exit("no peers venv at %s: run  bash /work/shared/peers/setup.sh %s"
                 % (args.peer_python, os.path.dirname(os.path.dirname(args.peer_python))))

    tmp = args.tmp or tempfile.mkdtemp(prefix="stance-bench-")
    os.makedirs(tmp, exist_ok=True)
    log("work folder %s" % tmp)
    LAUNCH[0] = Launcher(tmp)
    floor = run_measured(["true"])
    # Measure a snapshot of the binary: another build may replace target/release/stance mid-run.
    args.stance_bin_source = args.stance_bin
    args.stance_bin = os.path.join(tmp, "stance-snapshot")
    shutil.copy2(args.stance_bin_source, args.stance_bin)
    bin_sha = sha256_file(args.stance_bin)
    load = os.getloadavg()[0]
    if load > 0.5:
        log("warning: 1-minute load average is %.2f on %d cores; other work will inflate wall times"
            % (load, os.cpu_count()))
    results = {"command": " ".join(_quote(a) for a in ["python3"] + sys.argv),
               "machine": machine_info(args),
               "rss_floor_mb": round(floor.maxrss_kb / 1024.0, 1),
               "options": {"runs": args.runs, "runs_slow": args.runs_slow, "tasks": args.tasks,
                           "peers": args.peers, "growth": not args.skip_growth,
                           "growth_max": args.growth_max},
               "split_rule": {"seed": SPLIT_SEED, "dev_fraction": DEV_FRACTION},
               "tasks": collections.OrderedDict()}
    cache = {}

    def save():
        results["elapsed_s"] = round(time.time() - START, 1)
        d = os.path.dirname(os.path.abspath(args.results))
        os.makedirs(d, exist_ok=True)
        with open(args.results, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)

    def section(name, fn):
        try:
            return fn()
        except Exception as e:  # one broken section should not lose the others
            log("section %s failed: %s" % (name, e))
            results.setdefault("errors", {})[name] = str(e)
            return None
        finally:
            save()

    try:
        for task in args.tasks:
            if task in TASKS:
                r = section(task, lambda: run_task(args, task, tmp, cache))
                if r:
                    results["tasks"][task] = r
        if "one-core" in args.tasks:
            results["one_core"] = section("one-core", lambda: run_one_core(args, tmp, cache))
        if "fnc-throughput" in args.tasks:
            results["fnc"] = section("fnc-throughput", lambda: run_fnc(args, tmp, cache, results))
        if not args.skip_growth:
            results["growth"] = section("growth", lambda: run_growth(args, tmp, cache))
    finally:
        LAUNCH[0].close()
        results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        try:
            results["machine"]["stance_bin_changed_during_run"] = sha256_file(args.stance_bin_source) != bin_sha
        except OSError:
            results["machine"]["stance_bin_changed_during_run"] = True
        save()
        write_markdown(args.out, results, args)
        log("wrote %s and %s" % (args.out, args.results))
        if not args.keep_tmp and not args.tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _quote(s):
    return s if re.match(r"^[\w@%+=:,./-]+$", s) else "'" + s.replace("'", "'\"'\"'") + "'"


if __name__ == "__main__":
    main()
