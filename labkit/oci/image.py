"""A FROM scratch image as data: layers, config, manifest and index, built without an engine.

The config JSON is written as BuildKit writes it (Go struct order, compact, empty
lists as ``null``), so a zero-layer image predicts the ID the engine computes:
``Image.buildkit_scratch(era).image_id`` equals ``docker build`` of ``FROM scratch``
(20.10's BuildKit adds ``"OnBuild":null``; 26+/28 don't).

Example:
    >>> from labkit.oci.tarlayer import layer_tar
    >>> img = Image([[Entry.file("hello", b"hi\\n")]], cmd=["/hello"])
    >>> img.diff_ids == [sha256_digest(layer_tar(img.layers[0]))]
    True
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import BinaryIO

from labkit import host
from labkit.errors import LabkitError
from labkit.oci import v1, writers
from labkit.oci.digest import (DEFAULT_PATH_ENV, EPOCH_1970, OCI_CONFIG, OCI_INDEX, OCI_LAYER,
                               OCI_MANIFEST, go_json, sha256_digest)
from labkit.oci.refs import split_tag
from labkit.oci.tarlayer import ERAS, Entry, write_layer


class _HashSink:
    """A write-only file that hashes and counts what it is given, and passes it on to
    ``out`` when there is one."""

    def __init__(self, out: BinaryIO | None = None):
        self.hash, self.size, self.out = hashlib.sha256(), 0, out

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        return len(data)


@dataclasses.dataclass
class Image:
    """A FROM scratch image; every field has a deterministic default.

    Args:
        layers: each layer is a list of ``Entry``; ``[]`` is the empty image.
        cmd, entrypoint, env, workdir: the config's Cmd, Entrypoint, Env, WorkingDir.
        user: the config's User (``"nobody"``, ``"65534"``, ``"65534:65534"``); the
            runtime looks a name up in the image's own ``/etc/passwd``.
        created: RFC 3339 time, ``EPOCH_1970`` by default; ``None`` writes ``null``.
        author: the config's author.
        era: ``"modern"`` (26+ bytes), ``"20.10"`` or ``"1.4"`` (pre-1.10 layout).
        history: list of history dicts; ``None`` writes one entry per layer.
        architecture: the config's architecture by its OCI name, ``amd64`` (default)
            or ``arm64``; ``x86_64``/``aarch64`` are accepted and written as those.
            Build for the engine that will run it (``labkit.machine.target``).

    Example:
        >>> Image().config_bytes()[:39]
        b'{"architecture":"amd64","config":{},"cr'
    """

    layers: list[list[Entry]] = dataclasses.field(default_factory=list)
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    env: list[str] | None = None
    workdir: str | None = None
    created: str | None = EPOCH_1970
    author: str | None = None
    era: str = "modern"
    history: list[dict] | None = None
    architecture: str = "amd64"
    user: str | None = None

    def __post_init__(self):
        if self.era not in ERAS:
            raise ValueError(f"era must be one of {ERAS}, not {self.era!r}")
        self.architecture = host.oci_arch(self.architecture)
        self._layer_facts: list[tuple[str, int]] | None = None

    @classmethod
    def buildkit_scratch(cls, era: str = "modern", architecture: str = "amd64") -> "Image":
        """The image ``docker build`` makes of a Dockerfile holding only ``FROM scratch``,
        on an engine of ``architecture`` (measured for ``arm64`` with ``--platform
        linux/arm64`` on 20.10.24 and 28.5.2: the config has no ``variant``).

        Example:
            >>> Image.buildkit_scratch("20.10").image_id[:19]
            'sha256:71de1148337f'
            >>> Image.buildkit_scratch("modern", "arm64").image_id[:19]
            'sha256:3302e88f529a'
        """
        return cls(env=[DEFAULT_PATH_ENV], workdir="/", created=None, era=era,
                   architecture=architecture)

    # --- layers ------------------------------------------------------------------------
    @property
    def tar_era(self) -> str:
        """The tar header era of the layers (1.4 layers use 20.10's headers)."""
        return "modern" if self.era == "modern" else "20.10"

    def write_layer(self, index: int, out: BinaryIO) -> int:
        """Stream layer ``index``'s tar to ``out``; returns its size.

        Raises:
            LabkitError: a source file changed since the layer's diff_id was computed
                (the layer would not match the config that names it).
        """
        if self._layer_facts is None:
            return write_layer(self.layers[index], out, self.tar_era)
        tee = _HashSink(out)
        write_layer(self.layers[index], tee, self.tar_era)
        if ("sha256:" + tee.hash.hexdigest(), tee.size) != self._layer_facts[index]:
            raise LabkitError(f"a file of layer {index + 1} changed while the image was written",
                              hint="write the image again once its files stay put")
        return tee.size

    def _facts(self) -> list[tuple[str, int]]:
        if self._layer_facts is None:
            facts = []
            for index in range(len(self.layers)):
                sink = _HashSink()
                write_layer(self.layers[index], sink, self.tar_era)
                facts.append(("sha256:" + sink.hash.hexdigest(), sink.size))
            self._layer_facts = facts
        return self._layer_facts

    @property
    def diff_ids(self) -> list[str]:
        """``sha256:`` of each uncompressed layer tar."""
        return [digest for digest, _ in self._facts()]

    @property
    def layer_digests(self) -> list[str]:
        """Blob digests of the layers (labkit writes them uncompressed: the diff_ids)."""
        return self.diff_ids

    @property
    def layer_sizes(self) -> list[int]:
        """Bytes of each layer tar."""
        return [size for _, size in self._facts()]

    # --- config / manifest -------------------------------------------------------------
    def _runtime_config(self) -> dict:
        # BuildKit's order: the OCI ImageConfig struct, where User comes first.
        config = {}
        for key, value in (("User", self.user), ("Env", self.env), ("Entrypoint", self.entrypoint),
                           ("Cmd", self.cmd), ("WorkingDir", self.workdir)):
            if value:
                config[key] = list(value) if isinstance(value, (list, tuple)) else value
        if self.era != "modern":
            config["OnBuild"] = None
        return config

    def history_entries(self) -> list[dict]:
        """The config's history: given, or one ``labkit build`` entry per layer."""
        if self.history is not None:
            return list(self.history)
        entries = []
        for layer in self.layers:
            entry = {"created": self.created} if self.created else {}
            entry["created_by"] = "labkit build: " + " ".join(e.path for e in layer)[:200]
            entries.append(entry)
        return entries

    def config_dict(self) -> dict:
        """The image config, in the key order BuildKit writes."""
        config = {"architecture": self.architecture}
        if self.author:
            config["author"] = self.author
        config["config"] = self._runtime_config()
        config["created"] = self.created
        config["history"] = self.history_entries() or None
        config["os"] = "linux"
        config["rootfs"] = {"type": "layers", "diff_ids": self.diff_ids or None}
        return config

    def config_bytes(self) -> bytes:
        """The config blob; its sha256 is the image ID."""
        return go_json(self.config_dict())

    @property
    def config_digest(self) -> str:
        """``sha256:`` of the config blob."""
        return sha256_digest(self.config_bytes())

    @property
    def image_id(self) -> str:
        """The ID an engine shows: the config digest, or for era 1.4 the top v1 layer id."""
        if self.era == "1.4":
            return v1.v1_chain(self)[-1][0]
        return self.config_digest

    def manifest_bytes(self) -> bytes:
        """The OCI image manifest blob."""
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.config_digest,
                       "size": len(self.config_bytes())},
            "layers": [{"mediaType": OCI_LAYER, "digest": digest, "size": size}
                       for digest, size in self._facts()],
        }
        return go_json(manifest)

    def index_bytes(self, tag: str | None = None) -> bytes:
        """The OCI ``index.json`` naming the manifest (``tag`` → ref.name annotation)."""
        manifest = self.manifest_bytes()
        descriptor = {"mediaType": OCI_MANIFEST, "digest": sha256_digest(manifest),
                      "size": len(manifest)}
        if tag:
            name, ref = split_tag(tag)
            descriptor["annotations"] = {"io.containerd.image.name": f"{name}:{ref}",
                                         "org.opencontainers.image.ref.name": ref}
        return go_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]})

    def write(self, out, format: str = "docker-archive", tag: str | None = None):
        """Write the image as ``docker-archive``, ``oci-archive`` or ``oci-dir``; returns the Path.

        Example:
            >>> import tempfile, pathlib
            >>> Image().write(pathlib.Path(tempfile.mkdtemp()) / "empty.tar").name
            'empty.tar'
        """
        return writers.write_image(self, out, format, tag)
