"""Per-file licences from a Debian machine-readable copyright file (DEP-5): the last `Files:`
paragraph whose glob matches a path wins, as the format specifies."""
import fnmatch
import re


def paragraphs(text):
    """(globs, licence name) for every `Files:` paragraph, in file order."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        files, lic, field = [], None, None
        for line in para.splitlines():
            if line[:1] in (" ", "\t"):
                if field == "Files":
                    files += line.split()
                continue
            key, _, value = line.partition(":")
            field = key.strip()
            if field == "Files":
                files += value.split()
            elif field == "License":
                lic = value.strip()
        if files and lic:
            out.append((files, lic))
    return out


class Licences:
    """Looks up the licence of an upstream path (`data/jojo/x.png`) in a copyright file's text."""

    def __init__(self, text):
        self.rules = paragraphs(text)

    def of(self, path):
        found = None
        for globs, lic in self.rules:
            # In DEP-5, `*` also matches `/`, which fnmatch does too.
            if any(fnmatch.fnmatchcase(path, g) for g in globs):
                found = lic
        return found
