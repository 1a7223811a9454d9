"""Debian game-data packages as image sources: each package unpacked once under the work folder,
its image files indexed by lower-case stem, read from the file system or from the archive inside
the package, with every file's licence from the package's DEP-5 copyright file."""
import io
import subprocess
import zipfile

from PIL import Image

from common import debian, dep5

Image.MAX_IMAGE_PIXELS = 64 * 1024 * 1024
IMAGE_EXT = (".png", ".tga", ".jpg", ".jpeg", ".dds")
# name: (folder of the files in the .deb; a zip inside it holding them, or None; prefix that
# turns a file's path into the path the copyright file uses; attribution; the only members to
# unpack, or None for the whole package)
PACKAGES = {
    "cube2-data": ("usr/share/games/cube2/", None, "", "Cube 2: Sauerbraten contributors", None),
    "redeclipse-data": ("usr/share/games/redeclipse/", None, "", "Red Eclipse contributors", None),
    "0ad-data": ("usr/share/games/0ad/mods/public/", "public.zip", "binaries/data/mods/public/",
                 "Wildfire Games (0 A.D.)", None),
    "ufoai-textures": ("usr/share/games/ufoai/base/", "0textures.pk3", "base/", "The UFO:AI Team", None),
    "nexuiz-textures": ("usr/share/games/nexuiz/data/", "textures.pk3", "", "Alientrap (Nexuiz)", None),
    "flightgear-data-base": ("usr/share/games/flightgear/", None, "", "The FlightGear project",
                             ["./usr/share/games/flightgear/Textures/Terrain/*"]),
}
# Packages whose copyright file is not machine-readable, with the licence it states for all files.
WHOLE_PACKAGE = {"nexuiz-textures": "GPL-2+"}


class Package:
    """One unpacked package: its image files by lower-case stem, a reader and per-file licences."""

    def __init__(self, name, debs, unpacked):
        self.name = name
        root, inner, self.upstream, self.who, members = PACKAGES[name]
        top = unpack(name, debs, unpacked, members)
        base = top / root
        copyright_text = (top / f"usr/share/doc/{name}/copyright").read_text(errors="replace")
        self.licences = dep5.Licences(copyright_text)
        if inner:
            self.zip = zipfile.ZipFile(base / inner)
            paths = self.zip.namelist()
        else:
            self.zip, self.base = None, base
            paths = [str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()]
        self.files = {}
        for p in paths:
            low = p.lower()
            for ext in (".cached.dds", *IMAGE_EXT):
                if low.endswith(ext):
                    stem = low[: -len(ext)]
                    # 0 A.D.'s cache names keep the source's extension: x_norm.png.cached.dds
                    stem = stem[:-4] if stem.endswith((".png", ".tga", ".dds")) else stem
                    self.files.setdefault(stem, []).append(p)
                    break

    def pick(self, stem):
        """The best file for `stem`: lossless formats first."""
        found = self.files.get(stem)
        return min(found, key=lambda p: next((i for i, e in enumerate(IMAGE_EXT) if e in p.lower()), 9)) if found else None

    def open(self, path):
        data = self.zip.read(path) if self.zip else (self.base / path).read_bytes()
        img = Image.open(io.BytesIO(data))
        img.load()
        return img

    def licence(self, path):
        return WHOLE_PACKAGE.get(self.name) or self.licences.of(self.upstream + path) or "unknown"


def unpack(name, debs, unpacked, members=None):
    """The package's files (or only `members`, tar wildcards, and its copyright file), unpacked
    once under `unpacked`."""
    dest = unpacked / name
    if not dest.exists():
        deb = debian.download(name, debs)
        part = unpacked / f".{name}.part"
        subprocess.run(["rm", "-rf", str(part)], check=True)
        part.mkdir(parents=True)
        if members:
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(part), "--wildcards", *members,
                            f"./usr/share/doc/{name}/copyright"], stdin=tar.stdout, check=True)
            tar.wait()
        else:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(part)], check=True)
        part.rename(dest)
    return dest
