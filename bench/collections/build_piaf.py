"""Build the ``piaf`` collection: PIAF v1.0 questions -> the French Wikipedia paragraphs they were asked on.

Reproducible from the raw file of etalab-ia/piaf-code (MIT licence, DINUM/Etalab; Wikipedia text CC BY-SA)::

    git --git-dir=<mirror of etalab-ia/piaf-code> \\
        show 86948a73b26498948e70ad92e4b9b0231eac81f7:piaf-v1.0.json > piaf-v1.0.json
    python bench/collections/build_piaf.py piaf-v1.0.json [--out bench/collections/piaf] [--max-requests 1500]

Every paragraph is a profile (title: its Wikipedia article's title; description: the paragraph).
Questions are drawn at random (fixed seed) among the dataset's 3,835, at most ``--max-requests``;
each one's judgment is the paragraph it was written on (grade 3). Questions repeated word for word
are dropped (their answer is ambiguous).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

DESCRIPTION_LIMIT = 10_000


def profile(pid: str, title: str, text: str) -> dict:
    """One profile of the data contract for a passage (fixed holder, domain GOUV, label valid in 2026)."""
    return {
        "id": pid,
        "holder": "Wikipédia (PIAF)",
        "holder_type": "autre",
        "region": "Île-de-France",
        "title": title,
        "description": text[:DESCRIPTION_LIMIT],
        "domains": ["GOUV"],
        "languages": ["fr"],
        "countries": [],
        "label_start": "2025-01-01",
        "label_end": None,
        "contact": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="piaf-v1.0.json")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "piaf")
    parser.add_argument("--max-requests", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data = json.loads(args.raw.read_text(encoding="utf-8"))["data"]
    profiles, questions = [], []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article["paragraphs"]):
            pid = f"PIAF-{a:03d}-{p:02d}"
            profiles.append(profile(pid, article["title"].strip(), " ".join(paragraph["context"].split())))
            for qa in paragraph["qas"]:
                text = " ".join(qa["question"].split())
                if text:
                    questions.append((qa["id"], text, pid))
    counts = Counter(text.casefold() for _, text, _ in questions)
    questions = [q for q in questions if counts[q[1].casefold()] == 1]
    random.Random(args.seed).shuffle(questions)
    questions = sorted(questions[: args.max_requests], key=lambda q: q[2])

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "profiles.jsonl", "w", encoding="utf-8") as fh:
        for row in profiles:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(args.out / "requests.jsonl", "w", encoding="utf-8") as fh:
        for qid, text, _ in questions:
            fh.write(json.dumps({"id": qid, "text": text}, ensure_ascii=False) + "\n")
    with open(args.out / "qrels.tsv", "w", encoding="utf-8") as fh:
        for qid, _, pid in questions:
            fh.write(f"{qid}\t{pid}\t3\n")
    print(f"{len(profiles)} profiles, {len(questions)} requests -> {args.out}")


if __name__ == "__main__":
    main()
