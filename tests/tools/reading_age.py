#!/usr/bin/python3
"""Reading age of the patient web app's screens, measured with textstat
(an independent implementation of the Flesch-Kincaid grade, syllables by
pyphen's hyphenation dictionaries).

Usage: reading_age.py --max-age N FILE...

Each FILE holds one screen's visible text (the page's innerText, as the
end-to-end test saves it). A line without an end mark (a label, a button)
is a sentence of its own. The UK reading age is the US grade plus 5. Exits
1 if any screen reads above --max-age, naming it.
"""
import re
import sys

import textstat


def sentences(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return " ".join(l if re.search(r"[.!?:]$", l) else l + "." for l in lines)


def main(argv):
    if len(argv) < 3 or argv[0] != "--max-age":
        print(__doc__, file=sys.stderr)
        return 2
    most = float(argv[1])
    worst = []
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            text = sentences(f.read())
        if not text:
            print(f"{path}: no text", file=sys.stderr)
            return 2
        grade = textstat.flesch_kincaid_grade(text)
        age = grade + 5
        words = textstat.lexicon_count(text)
        print(f"{path}: {words} words, Flesch-Kincaid grade {grade:.1f}, reading age {age:.1f}")
        if age > most:
            worst.append(path)
    if worst:
        print(f"reads above a reading age of {most}: {', '.join(worst)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
