import itertools

import wordfreq

from matching.analysis.frequency import _PLAIN_FRENCH, zipf_frequency


def test_zipf_frequency_is_wordfreqs():
    # Plain words across the whole frequency range (every 20th of the list), words wordfreq does
    # not know, and words it tokenises (capitals, elisions, digits, hyphens, other languages).
    listed = [w for w in itertools.islice(wordfreq.iter_wordlist("fr"), 0, None, 20) if _PLAIN_FRENCH.fullmatch(w)]
    assert len(listed) > 10_000
    others = [
        "zzqxw",
        "décharge",
        "œuvre",
        "Écoles",
        "l'eau",
        "d’ordures",
        "A4",
        "2024",
        "mi-temps",
        "groß",
        "eau potable",
    ]
    for word in listed + others:
        assert zipf_frequency(word, "fr") == wordfreq.zipf_frequency(word, "fr"), word
    assert zipf_frequency("water", "en") == wordfreq.zipf_frequency("water", "en")
