"""Build the ``udhr-xling`` collection: the Universal Declaration of Human Rights in English, Spanish and
Portuguese -> the same paragraph in French.

Reproducible from the raw files of eric-muller/udhr (the "UDHR in XML" project, efele.net/udhr; the texts
are the United Nations' and the Portuguese government's official versions)::

    for l in fra eng spa por_PT; do git --git-dir=<mirror of eric-muller/udhr> \\
        show f93dd614154c47fc4b85ec03d8d6f1abe97869ef:data/udhr/udhr_$l.xml > udhr_$l.xml; done
    python bench/collections/build_udhr_xling.py udhr_fra.xml udhr_eng.xml udhr_spa.xml udhr_por_PT.xml \\
        [--out bench/collections/udhr-xling]

Units are paragraphs: an article whose paragraphs (list items included) number the same in all four
languages is split into them; otherwise the article is one unit. The preamble's seven "Considérant"
paragraphs are units, and so is its closing proclamation (the last paragraph of each version; the lines
before it, "L'Assemblée générale" / "Now, therefore," are dropped). Each French unit is a profile; each
foreign unit is a request (``EN-012``, ``ES-012``, ``PT-012``) judged grade 3 on its French unit.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

DESCRIPTION_LIMIT = 10_000
REQUEST_LIMIT = 3_000
NS = "{http://efele.net/udhr}"
FOREIGN = (("EN", "en", "English"), ("ES", "es", "Spanish"), ("PT", "pt", "Portuguese"))
PREAMBLE_CONSIDERANDA = 7


def clean(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def sections(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Section key ("0" for the preamble, else the article number) -> (heading, paragraphs)."""
    root = ET.parse(path).getroot()
    out = {}
    for section in root:
        tag = section.tag.removeprefix(NS)
        if tag not in ("preamble", "article"):
            continue
        heading = section.find(f"{NS}title")
        paragraphs = [clean(p) for p in section.iter(f"{NS}para")]
        out["0" if tag == "preamble" else section.get("number")] = (
            clean(heading) if heading is not None else "",
            [p for p in paragraphs if p],
        )
    return out


def units(versions: list[dict[str, tuple[str, list[str]]]]) -> list[tuple[str, list[str]]]:
    """Aligned units: (French heading, [text in each version, French first])."""
    out = []
    for key, (heading, _) in versions[0].items():
        paragraphs = [v[key][1] for v in versions]
        if key == "0":
            for i in range(PREAMBLE_CONSIDERANDA):
                out.append((heading, [p[i] for p in paragraphs]))
            out.append((heading, [p[-1] for p in paragraphs]))
        elif len({len(p) for p in paragraphs}) == 1:
            out += [(heading, [p[i] for p in paragraphs]) for i in range(len(paragraphs[0]))]
        else:
            out.append((heading, [" ".join(p) for p in paragraphs]))
    return out


def profile(pid: str, title: str, text: str) -> dict:
    """One profile of the data contract for a passage (fixed holder, domain GOUV, label valid in 2026)."""
    return {
        "id": pid,
        "holder": "Nations unies (DUDH)",
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
    parser.add_argument("french", type=Path, help="udhr_fra.xml")
    parser.add_argument("english", type=Path, help="udhr_eng.xml")
    parser.add_argument("spanish", type=Path, help="udhr_spa.xml")
    parser.add_argument("portuguese", type=Path, help="udhr_por_PT.xml")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "udhr-xling")
    args = parser.parse_args()

    versions = [sections(p) for p in (args.french, args.english, args.spanish, args.portuguese)]
    aligned = units(versions)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "profiles.jsonl", "w", encoding="utf-8") as fh:
        for n, (heading, texts) in enumerate(aligned):
            fh.write(json.dumps(profile(f"DUDH-{n:03d}", heading, texts[0]), ensure_ascii=False) + "\n")
    with (
        open(args.out / "requests.jsonl", "w", encoding="utf-8") as fh,
        open(args.out / "qrels.tsv", "w", encoding="utf-8") as qh,
    ):
        for i, (prefix, code, name) in enumerate(FOREIGN, start=1):
            for n, (_, texts) in enumerate(aligned):
                rid = f"{prefix}-{n:03d}"
                row = {"id": rid, "text": texts[i][:REQUEST_LIMIT], "language": code, "group": name}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                qh.write(f"{rid}\tDUDH-{n:03d}\t3\n")
    print(f"{len(aligned)} profiles, {len(aligned) * len(FOREIGN)} requests -> {args.out}")


if __name__ == "__main__":
    main()
