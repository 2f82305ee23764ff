"""Build the ``legi-headings`` collection: headings of French legal codes -> the text of their section.

Reproducible from the raw files of SocialGouv/legi-data (extracts of the LEGI database, DILA, Licence
Ouverte), commit 7fc71c232753c82818fe7872c239ac42057dcf8e (2019-08-19)::

    for id in $(python bench/collections/build_legi_headings.py --list-codes); do
        git --git-dir=<mirror of SocialGouv/legi-data> \\
            show 7fc71c232753c82818fe7872c239ac42057dcf8e:data/$id.json > $id.json; done
    python bench/collections/build_legi_headings.py LEGITEXT*.json [--out bench/collections/legi-headings]

Every leaf section (a section holding articles) of ten codes close to the programme's domains is a
profile: ``description`` its articles in force, in order, one per paragraph (cut at 10,000 characters),
``title`` the first line of that text (cut at 150 characters), ``holder`` the code, ``domains`` the code's
domain. The section's own heading ("Chapitre II : Taxe de séjour." -> "Taxe de séjour") is left out of
the profile and becomes the request, judged grade 3 on its section, when it is a real keyword query:
at most ``--max-words`` words, not generic ("Dispositions générales", "Chapitre unique"...), without
digits (no "Annexe à l'article A223-10-2"), and used by
one section only in the whole pool (a repeated heading has no single answer). Sections whose heading
does not qualify stay as profiles, unjudged.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

DESCRIPTION_LIMIT = 10_000
TITLE_LIMIT = 150
#: the ten codes (LEGITEXT id) and the taxonomy domain each one is about
CODES = {
    "LEGITEXT000006074073": "TOUR",  # Code du tourisme
    "LEGITEXT000006070667": "MOB",  # Code de la voirie routière
    "LEGITEXT000006074224": "URB",  # Code de l'expropriation pour cause d'utilité publique
    "LEGITEXT000006070987": "NUM",  # Code des postes et des communications électroniques
    "LEGITEXT000023501962": "ENV",  # Code minier (nouveau)
    "LEGITEXT000031366350": "GOUV",  # Code des relations entre le public et l'administration
    "LEGITEXT000006070162": "GOUV",  # Code des communes
    "LEGITEXT000006070208": "FIN",  # Code du domaine de l'Etat
    "LEGITEXT000006071190": "EDU",  # Code de la recherche
    "LEGITEXT000006074067": "SOC",  # Code de la mutualité
}
_NUMBERING = re.compile(
    r"^\s*(partie|livre|titre|chapitre|section|sous-section|paragraphe|sous-paragraphe|article)\b[^:]*:\s*", re.I
)
_GENERIC = {
    "dispositions",
    "disposition",
    "générales",
    "générale",
    "communes",
    "commune",
    "diverses",
    "divers",
    "particulières",
    "transitoires",
    "finales",
    "pénales",
    "pénale",
    "chapitre",
    "unique",
    "section",
    "champ",
    "application",
    "d'application",
    "relatives",
    "applicables",
    "et",
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "à",
    "au",
    "aux",
    "en",
    "sanctions",
    "définitions",
    "définition",
    "objet",
    "principes",
    "généraux",
    "abrogé",
    "abrogée",
    "abrogés",
    "partie",
    "législative",
    "réglementaire",
    "annexes",
    "annexe",
    "outre-mer",
    "autres",
    "mesures",
}


def heading(title: str) -> str:
    """A section title without its numbering ("Chapitre II : Taxe de séjour." -> "Taxe de séjour")."""
    return " ".join(_NUMBERING.sub("", title).split()).strip(" .;:")


def leaf_sections(node: dict):
    """Sections holding articles in force, depth first, in the code's order."""
    articles = [a for a in node.get("articles", []) if a.get("etat") == "VIGUEUR" and a.get("texte", "").strip()]
    if node.get("type") == "section" and articles:
        yield node, articles
    for child in node.get("sections", []):
        yield from leaf_sections(child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, nargs="*", help="data/LEGITEXT....json files of SocialGouv/legi-data")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "legi-headings")
    parser.add_argument("--max-words", type=int, default=4)
    parser.add_argument("--list-codes", action="store_true", help="print the LEGITEXT ids to fetch and exit")
    args = parser.parse_args()
    if args.list_codes:
        print("\n".join(CODES))
        return

    sections = []  # (pid, heading, code title, domain, text)
    for path in args.raw:
        code = json.loads(path.read_text(encoding="utf-8"))
        if code["id"] not in CODES:
            raise SystemExit(f"{path}: {code['id']} is not one of the collection's codes")
        for node, articles in leaf_sections(code):
            paragraphs = (" ".join(a["texte"].split()) for a in articles)
            text = "\n".join(paragraphs)
            sections.append((f"LEGI-{node['id'][8:]}", heading(node["title"]), code["title"], CODES[code["id"]], text))
    counts = Counter(h.casefold() for _, h, _, _, _ in sections)

    def is_query(h: str) -> bool:
        words = h.split()
        return (
            0 < len(words) <= args.max_words
            and counts[h.casefold()] == 1
            and not any(c.isdigit() for c in h)
            and not all(w.casefold() in _GENERIC for w in words)
        )

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "profiles.jsonl", "w", encoding="utf-8") as fh:
        for pid, _, code_title, domain, text in sections:
            fh.write(
                json.dumps(
                    {
                        "id": pid,
                        "holder": code_title,
                        "holder_type": "autre",
                        "region": "Île-de-France",
                        "title": text.splitlines()[0][:TITLE_LIMIT],
                        "description": text[:DESCRIPTION_LIMIT],
                        "domains": [domain],
                        "languages": ["fr"],
                        "countries": [],
                        "label_start": "2025-01-01",
                        "label_end": None,
                        "contact": None,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    queries = [(pid, h) for pid, h, _, _, _ in sections if is_query(h)]
    with open(args.out / "requests.jsonl", "w", encoding="utf-8") as fh:
        for pid, h in queries:
            fh.write(json.dumps({"id": f"H{pid[4:]}", "text": h}, ensure_ascii=False) + "\n")
    with open(args.out / "qrels.tsv", "w", encoding="utf-8") as fh:
        for pid, _ in queries:
            fh.write(f"H{pid[4:]}\t{pid}\t3\n")
    print(f"{len(sections)} profiles, {len(queries)} requests -> {args.out}")


if __name__ == "__main__":
    main()
