"""Looking for a secret everywhere a run writes: the forms a password takes on disk."""

from __future__ import annotations

import base64
import os
from pathlib import Path

# Engines' storage (container filesystems, of any run on the host) is skipped: it changes
# while it is read, and no run writes a credential into an image.
SKIPPED = "engines"


def forms(username: str, password: str) -> dict[str, bytes]:
    """The password, the ``auth`` of a docker config (base64 of user:password), and the
    password's base64 at each of the three alignments it can take inside a longer base64 text
    (an X-Registry-Auth header, a JSON blob encoded whole)."""
    found = {"password": password.encode(),
             "base64(user:password)": base64.b64encode(f"{username}:{password}".encode())}
    for offset in range(3):
        encoded = base64.b64encode(b"x" * offset + password.encode())
        # Drop the characters that still depend on the prefix or on what follows.
        core = encoded[(4 * offset + 2) // 3 + (1 if offset else 0):].rstrip(b"=")[:-2]
        found[f"base64(password) at offset {offset}"] = core
    return found


def _files(root: Path):
    if root.is_file():
        yield root
        return
    for folder, dirs, names in os.walk(root, onerror=lambda error: None):
        dirs[:] = [d for d in dirs if d != SKIPPED]
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def search(roots: list[Path], texts: dict[str, str], secret_forms: dict[str, bytes]) -> tuple[int, list[str]]:
    """(files searched, hits as "where: form") over every file under ``roots`` and ``texts``."""
    hits, searched = [], 0
    for root in roots:
        for path in _files(root):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            searched += 1
            hits += [f"{path}: {name}" for name, form in secret_forms.items() if form in data]
    for name, text in texts.items():
        searched += 1
        hits += [f"{name}: {form_name}" for form_name, form in secret_forms.items() if form in text.encode()]
    return searched, hits
