"""The artifact store keeps each upload once, even when threads store the same bytes at once."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.store.artifacts import ArtifactStore


def test_same_file_stored_by_many_threads_at_once(tmp_path: Path) -> None:
    source = tmp_path / "plate.bin"
    source.write_bytes(bytes(range(256)) * 65536)  # 16 MB: copying takes long enough to overlap
    store = ArtifactStore(tmp_path / "artifacts")
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: store.put(source), range(64)))
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert {r[0] for r in results} == {sha}
    assert results[0][1].read_bytes() == source.read_bytes()
    assert [p.name for p in results[0][1].parent.iterdir()] == [sha]  # no temp file left behind
