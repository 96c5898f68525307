"""Which capture objects one host of a multi-instance Processing job reads.

SageMaker Processing tells each container its host name and all host names in
``/opt/ml/config/resourceconfig.json`` (``{"current_host": "algo-1", "hosts": ["algo-1", ...]}``,
documented in *Build your own processing container*). The drift job lists S3 itself at run time,
so the split is its own (``S3DataDistributionType: ShardedByS3Key`` would only shard a
Processing input): an object belongs to host ``blake2b(key) mod N``. The split depends on the key
alone, so hosts that list at slightly different moments (a late capture file) still agree on
every object they both see, and every object is read by exactly one host.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

RESOURCE_CONFIG = Path("/opt/ml/config/resourceconfig.json")


@dataclass(frozen=True)
class Shard:
    """Host ``index`` of ``count`` hosts."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"host index {self.index} is not within 0..{self.count - 1}")

    def owns(self, key: str) -> bool:
        """True when the object ``key`` is this host's to read."""
        return self.count == 1 or bucket_of(key, self.count) == self.index

    @property
    def name(self) -> str:
        """``<index>-of-<count>``, used in partial file names."""
        return f"{self.index}-of-{self.count}"


ALL = Shard()


def bucket_of(key: str, count: int) -> int:
    """The host index of an object key among ``count`` hosts (stable across runs and hosts)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard_from_resource_config(path: Path = RESOURCE_CONFIG) -> Shard:
    """This host's shard from ``resourceconfig.json``; one host when the file is absent."""
    if not path.is_file():
        return ALL
    document = json.loads(path.read_text(encoding="utf-8"))
    hosts = sorted(str(host) for host in document["hosts"])
    current = str(document["current_host"])
    if current not in hosts:
        raise ValueError(f"{path}: current_host {current!r} is not among hosts {hosts}")
    return Shard(hosts.index(current), len(hosts))
