"""Build the ``covid-faq`` collection: questions of French administrations' COVID-19 FAQs -> their answers.

Reproducible from the raw file of bzg/covid19-faq-data (a collection of the FAQs published in spring 2020
by French public bodies; the answers are their public information)::

    git --git-dir=<mirror of bzg/covid19-faq-data> \\
        show 34f973f2e1e798d371351e47ab0ca74767e35329:docs/faq.json > faq.json
    python bench/collections/build_covid_faq.py faq.json [--out bench/collections/covid-faq]

Every answer is a profile: ``holder`` the public body that wrote it, ``title`` its first line (cut at
150 characters), ``description`` the answer's text (HTML removed, cut at 10,000 characters); the
question is left out of the profile and becomes the request, judged grade 3 on its answer. A question
asked word for word by several FAQs becomes one request judged on each of those answers.
Left out: the answers of service-public.fr (DILA; the project already has a service-public collection)
and of the Société française de pharmacologie et de thérapeutique (a learned society, not a public body);
answers of fewer than 5 words ("Oui.") and answers whose text the scraper did not get (the same line,
"La réponse sur le site du Ministère...", for every question of that ministry) are dropped with their
questions. Answers published twice with the same text become one profile, judged for each question.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections import defaultdict
from pathlib import Path

DESCRIPTION_LIMIT = 10_000
TITLE_LIMIT = 150
MIN_WORDS = 5
EXCLUDED = {
    "Direction de l'information légale et administrative",
    "Société Française de Pharmacologie et de Thérapeutique",
}
_BLOCK = re.compile(r"<\s*(br|/p|/li|/h\d|/div|/tr|li)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def to_text(markup: str) -> str:
    """Plain text of an HTML answer: block ends become line breaks, tags and entities go."""
    text = html.unescape(_TAG.sub(" ", _BLOCK.sub("\n", markup)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def fold_question(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="docs/faq.json of bzg/covid19-faq-data")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "covid-faq")
    args = parser.parse_args()

    rows = [row for row in json.loads(args.raw.read_text(encoding="utf-8")) if row["s"] not in EXCLUDED]
    texts = [to_text(row["r"]) for row in rows]
    holders_of = defaultdict(set)
    for row, text in zip(rows, texts, strict=True):
        holders_of[text].add(row["i"])
    boilerplate = {t for t, ids in holders_of.items() if len(ids) > 10}  # one line for a whole FAQ
    profiles, by_question, first_text, pid_of_text = [], defaultdict(list), {}, {}
    for row, text in zip(rows, texts, strict=True):
        question = " ".join(row["q"].replace("\u00a0", " ").split())
        if len(text.split()) < MIN_WORDS or text in boilerplate or not question:
            continue
        key = fold_question(question)
        if text in pid_of_text:  # the same answer again: judge this question on it too
            if pid_of_text[text] not in by_question[key]:
                by_question[key].append(pid_of_text[text])
            first_text.setdefault(key, (f"CQ-{row['i'][:12]}", question))
            continue
        pid = pid_of_text[text] = f"FAQ-{row['i'][:12]}"
        profiles.append(
            {
                "id": pid,
                "holder": row["s"],
                "holder_type": "autre",
                "region": "Île-de-France",
                "title": text.splitlines()[0][:TITLE_LIMIT],
                "description": text[:DESCRIPTION_LIMIT],
                "domains": ["GOUV"],
                "languages": ["fr"],
                "countries": [],
                "label_start": "2025-01-01",
                "label_end": None,
                "contact": None,
            }
        )
        by_question[key].append(pid)
        first_text.setdefault(key, (f"CQ-{row['i'][:12]}", question))

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "profiles.jsonl", "w", encoding="utf-8") as fh:
        for row in profiles:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (
        open(args.out / "requests.jsonl", "w", encoding="utf-8") as fh,
        open(args.out / "qrels.tsv", "w", encoding="utf-8") as qh,
    ):
        for key, pids in by_question.items():
            rid, question = first_text[key]
            fh.write(json.dumps({"id": rid, "text": question}, ensure_ascii=False) + "\n")
            for pid in pids:
                qh.write(f"{rid}\t{pid}\t3\n")
    print(f"{len(profiles)} profiles, {len(by_question)} requests -> {args.out}")


if __name__ == "__main__":
    main()
