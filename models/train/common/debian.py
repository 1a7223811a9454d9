"""Debian packages as data sources: `apt-get download` a .deb once into the work folder and unpack
single members from it, resumably (a member is written under a temporary name, then renamed)."""
import subprocess
from pathlib import Path


def download(name: str, debs: Path) -> Path:
    """The newest downloaded .deb of package `name` in `debs`, fetched with apt-get when missing."""
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{name}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", name], cwd=debs, check=True)
        found = sorted(debs.glob(f"{name}_*.deb"))
    return found[-1]


def member(deb: Path, path: str, dest: Path) -> Path:
    """Unpacks the member `path` (e.g. `./usr/share/...`) of `deb` to `dest`, once."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    with open(tmp, "wb") as out:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-xO", path], stdin=tar.stdout, stdout=out, check=True)
        tar.wait()
    tmp.rename(dest)
    return dest
