"""Layer identities and ``docker save`` reading, on archives made here (no engine)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

from fixtures.measure.layers import chain_ids, common_prefix, overlay_dirs, read_saved


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_chain_ids_follow_the_image_spec():
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert chain_ids([a]) == [a]
    assert chain_ids([a, b]) == [a, _digest(f"{a} {b}".encode())]
    assert chain_ids([]) == []


def test_common_prefix_counts_leading_agreement():
    assert common_prefix(["x", "y", "z"], ["x", "y", "q"]) == 2
    assert common_prefix(["x"], ["q", "x"]) == 0
    assert common_prefix(["x"], ["x", "y"]) == 1


def _saved_archive(layers: list[bytes], history: list[dict]) -> bytes:
    config = {"rootfs": {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]}, "history": history}
    config_bytes = json.dumps(config).encode()
    files = {f"l{i}/layer.tar": layer for i, layer in enumerate(layers)}
    files["cfg.json"] = config_bytes
    files["manifest.json"] = json.dumps([{"Config": "cfg.json", "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_read_saved_hashes_each_layer_as_it_streams():
    layers = [b"base layer" * 1000, b"own layer"]
    history = [{"created_by": "import"}, {"created_by": "ENV", "empty_layer": True}, {"created_by": "RUN x"}]
    archive = _saved_archive(layers, history)
    chunks = [archive[i:i + 777] for i in range(0, len(archive), 777)]  # odd chunk sizes, as a stream gives
    saved = read_saved(chunks)
    assert [layer.digest for layer in saved.layers] == saved.config_diff_ids == [_digest(l) for l in layers]
    assert [layer.size for layer in saved.layers] == [len(l) for l in layers]
    assert [step["created_by"] for step in saved.layer_steps()] == ["import", "RUN x"]


def test_overlay_dirs_top_first_and_only_for_overlay2():
    driver = {"Name": "overlay2", "Data": {"UpperDir": "/d/top/diff", "LowerDir": "/d/mid/diff:/d/base/diff",
                                          "WorkDir": "/d/top/work"}}
    assert overlay_dirs(driver) == ["/d/top/diff", "/d/mid/diff", "/d/base/diff"]
    assert overlay_dirs({"Name": "overlay2", "Data": {"UpperDir": "/d/only/diff"}}) == ["/d/only/diff"]
    assert overlay_dirs({"Name": "btrfs", "Data": {}}) == []
