"""Synthetic corpora for benchmarks, made by perturbing the bundled profiles and requests.

Profiles: each synthetic profile starts from a source profile and keeps its domains, but
its description mixes the source's sentences with sentences of other profiles of the same
main domain; its title is sometimes spliced with another title of that domain; holder,
region, contact, languages and countries are swapped in from other profiles; a few words
get typos; its label dates are shifted by up to two months (so the share of expired labels
stays that of the sources); ids are new (``SYN-0000001``).

Requests: each starts from a source request, may have one sentence replaced by a sentence
of another request in the same language, gets a few typos, and a new id (``SREQ-0000001``);
language, country and group are kept.

Output is deterministic for a given seed, sizes and sources, and streamed (1,000,000
requests take well under a minute). Files go to ``bench/out/`` (git-ignored) and are reused
when their sidecar ``.meta.json`` matches::

    python bench/synth.py --profiles 1000 10000 100000 --requests 20000 100000 1000000 \\
        [--seed 7] [--source-profiles data/profiles.jsonl] [--source-requests data/requests.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SOURCE_PROFILES = ROOT / "data" / "profiles.jsonl"
SOURCE_REQUESTS = ROOT / "data" / "requests.jsonl"
VERSION = 1  # bump when the generator changes, so that cached files are rebuilt

_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_LETTERS = "abcdefghijklmnopqrstuvwxyzéèàu"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8-sig") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def typo(word: str, rng: random.Random) -> str:
    """One typo: swap, drop, double or replace a letter (words of 4+ letters only)."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_LETTERS) + word[i + 1 :]


def add_typos(text: str, rate: float, rng: random.Random) -> str:
    """Put typos in about ``rate`` of the words of ``text``."""
    words = text.split(" ")
    n = len(words)
    count = int(n * rate) + (rng.random() < (n * rate) % 1)
    for _ in range(count):
        i = rng.randrange(n)
        words[i] = typo(words[i], rng)
    return " ".join(words)


def _shift(value: str | None, days: int) -> str | None:
    if not value:
        return value
    return (date.fromisoformat(str(value)[:10]) + timedelta(days=days)).isoformat()


# ---------------------------------------------------------------------------- generators
def iter_profiles(sources: list[dict[str, Any]], n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"profiles-{seed}")
    by_domain: dict[str, list[int]] = {}
    for i, p in enumerate(sources):
        by_domain.setdefault(p["domains"][0], []).append(i)
    split = [sentences(p["description"]) for p in sources]
    title_words = [p["title"].split(" ") for p in sources]
    for k in range(n):
        i = rng.randrange(len(sources))
        src = sources[i]
        peers = by_domain[src["domains"][0]]
        j = rng.choice(peers)
        own = split[i]
        keep = [s for s in own if rng.random() < 0.7] or own[:1]
        for _ in range(rng.randint(1, 3)):
            other = split[rng.choice(peers)]
            keep.insert(rng.randint(0, len(keep)), rng.choice(other))
        title = src["title"]
        if rng.random() < 0.3 and j != i:
            a, b = title_words[i], title_words[j]
            title = " ".join(a[: max(2, len(a) // 2)] + b[len(b) // 2 :])
        holder_src = sources[rng.randrange(len(sources))]
        days = rng.randint(-60, 60)
        start = date.fromisoformat(src["label_start"][:10]) + timedelta(days=days)
        start = min(start, date(2026, 11, 1))
        yield {
            "id": f"SYN-{k + 1:07d}",
            "holder": holder_src["holder"],
            "holder_type": holder_src["holder_type"],
            "region": sources[rng.randrange(len(sources))]["region"],
            "title": add_typos(title, 0.03, rng),
            "description": add_typos(" ".join(keep), 0.01, rng),
            "domains": src["domains"],
            "languages": sources[j]["languages"] if rng.random() < 0.5 else src["languages"],
            "countries": sources[rng.randrange(len(sources))]["countries"],
            "label_start": start.isoformat(),
            "label_end": _shift(src.get("label_end"), days),
            "contact": sources[j].get("contact") or src.get("contact"),
        }


def iter_requests(sources: list[dict[str, Any]], n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"requests-{seed}")
    split = [sentences(r["text"]) for r in sources]
    by_language: dict[str, list[int]] = {}
    for i, r in enumerate(sources):
        by_language.setdefault(r.get("language") or "fr", []).append(i)
    for k in range(n):
        i = rng.randrange(len(sources))
        src = sources[i]
        parts = list(split[i])
        if len(parts) > 2 and rng.random() < 0.5:
            other = split[rng.choice(by_language[src.get("language") or "fr"])]
            parts[rng.randrange(1, len(parts))] = rng.choice(other)
        record = {"id": f"SREQ-{k + 1:07d}", "text": add_typos(" ".join(parts), 0.01, rng)}
        for field in ("requester", "country", "language", "received", "group"):
            if src.get(field):
                record[field] = src[field]
        yield record


# ---------------------------------------------------------------------------- files
def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _write(path: Path, records: Iterator[dict[str, Any]], meta: dict[str, Any]) -> Path:
    meta_path = path.with_suffix(".meta.json")
    if path.exists() and meta_path.exists() and json.loads(meta_path.read_text()) == meta:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8", buffering=1 << 20) as fh:
        dumps: Callable[..., str] = json.dumps
        for record in records:
            fh.write(dumps(record, ensure_ascii=False))
            fh.write("\n")
    os.replace(tmp, path)
    meta_path.write_text(json.dumps(meta))
    return path


def synth_profiles(n: int, seed: int = 7, source: Path = SOURCE_PROFILES, out: Path = OUT) -> Path:
    """Path of a synthetic profiles file of ``n`` profiles (built unless cached)."""
    meta = {"kind": "profiles", "n": n, "seed": seed, "source": _checksum(source), "version": VERSION}
    return _write(out / f"profiles_{n}_s{seed}.jsonl", iter_profiles(read_jsonl(source), n, seed), meta)


def synth_requests(n: int, seed: int = 7, source: Path = SOURCE_REQUESTS, out: Path = OUT) -> Path:
    """Path of a synthetic backlog of ``n`` requests (built unless cached)."""
    meta = {"kind": "requests", "n": n, "seed": seed, "source": _checksum(source), "version": VERSION}
    return _write(out / f"requests_{n}_s{seed}.jsonl", iter_requests(read_jsonl(source), n, seed), meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build synthetic profiles and request backlogs in bench/out/.")
    parser.add_argument("--profiles", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--requests", type=int, nargs="*", default=[20000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source-profiles", type=Path, default=SOURCE_PROFILES)
    parser.add_argument("--source-requests", type=Path, default=SOURCE_REQUESTS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for n in args.profiles:
        started = time.perf_counter()
        path = synth_profiles(n, args.seed, args.source_profiles, args.out)
        print(f"{path} ({n:,} profiles, {time.perf_counter() - started:.1f} s)")
    for n in args.requests:
        started = time.perf_counter()
        path = synth_requests(n, args.seed, args.source_requests, args.out)
        print(f"{path} ({n:,} requests, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
