"""A tiny image for the proxy's own end-to-end self-tests, made from the host's binaries.

No registry is reachable and nothing needs installing: ``dash`` and a few coreutils are on
every Debian host. Each binary is copied with the shared libraries ``ldd`` names for it,
which is enough for ``sh -c`` scripts that read /proc, trap signals and sleep (and for
``nsenter``, which the mnt-host fault runs from the image).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile

TOOLS = ("sh", "cat", "readlink", "sleep", "ls", "hostname", "true", "nsenter")

# "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def shared_libraries(binary: str) -> list[str]:
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
    return [match.group(1) for match in map(_LDD_PATH.search, out.splitlines()) if match]


def image_files(tools: tuple[str, ...] = TOOLS) -> dict[str, str]:
    """Path in the image -> host file to copy there (symlinks resolved)."""
    files: dict[str, str] = {}
    for tool in tools:
        host = shutil.which(tool)
        if host is None:
            raise FileNotFoundError(f"{tool} is not on this host's PATH")
        files[f"bin/{tool}"] = os.path.realpath(host)
        for library in shared_libraries(files[f"bin/{tool}"]):
            files[library.lstrip("/")] = os.path.realpath(library)
    return files


def rootfs_tar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        directories = {"tmp"} | {os.path.dirname(path) for path in files}
        for directory in sorted(_with_parents(directories)):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        for path, host in sorted(files.items()):
            info = tar.gettarinfo(host, arcname=path)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(host, "rb") as content:
                tar.addfile(info, content)
    return buffer.getvalue()


def _with_parents(directories: set[str]) -> set[str]:
    every = set()
    for directory in directories:
        while directory:
            every.add(directory)
            directory = os.path.dirname(directory)
    return every
