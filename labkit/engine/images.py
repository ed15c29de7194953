"""Images on an engine: load, import, save, inspect, history, list, remove, clean up.

Example:
    >>> eng.load("hello.tar")                                  # doctest: +SKIP
    ['lab/hello:latest']
"""
from __future__ import annotations

import re
from pathlib import Path

import docker.errors
import requests.exceptions

from labkit.engine.base import _SDK_ERRORS, DEFAULT_NAMESPACE, LABEL, NAMESPACE_LABEL, _engine_message
from labkit.errors import EngineError


class ImagesMixin:
    """The image calls of ``Engine`` (docker SDK's ``ImageApiMixin`` seam)."""

    def load(self, path: str | Path) -> list[str]:
        """``docker load`` a tarball; returns the refs (or IDs) the engine reports.

        Raises:
            EngineError: the engine refused the tarball (its own message).

        Example:
            >>> eng.load("hello.tar")                                  # doctest: +SKIP
            ['lab/hello:latest']
        """
        loaded: list[str] = []

        def load() -> None:
            with open(path, "rb") as tarball:
                for chunk in self.api.load_image(tarball, quiet=True):
                    if "error" in chunk:
                        raise EngineError(f"the engine refused {Path(path).name}: "
                                          f"{' '.join(chunk['error'].split())}")
                    stream = chunk.get("stream", "")
                    match = re.match(r"Loaded image(?: ID)?: (\S+)", stream.strip())
                    if match:
                        loaded.append(match.group(1))

        try:
            self._long_call(f"loading {Path(path).name}", load)
        except requests.exceptions.JSONDecodeError:
            pass  # a pre-1.10 (docker-v1) tarball loads with an empty answer body
        except _SDK_ERRORS as err:  # before OSError: requests' errors are OSErrors too
            raise EngineError(f"the engine refused {Path(path).name}: "
                              f"{_engine_message(err)}") from None
        except OSError as err:
            raise EngineError(f"cannot read {path}: {err.strerror}") from None
        self._created.update(loaded)
        return loaded

    def import_tar(self, path: str | Path, tag: str) -> str:
        """``docker import`` a root-filesystem tarball as a one-layer image; returns its ID."""
        try:
            out = self._long_call(f"importing {Path(path).name}",
                                  lambda: self.api.import_image_from_file(str(path), repository=tag))
        except _SDK_ERRORS as err:
            raise EngineError(f"the engine refused to import {Path(path).name}: "
                              f"{_engine_message(err)}") from None
        match = re.search(r"sha256:[0-9a-f]{64}", out if isinstance(out, str) else str(out))
        if not match:
            raise EngineError(f"import of {Path(path).name} failed: {' '.join(str(out).split())}")
        self._created.add(tag)
        return match.group(0)

    def save(self, image: str | list[str], path: str | Path) -> Path:
        """``docker save`` ``image`` (or several: ``docker save a b``) into the tarball
        ``path`` (streamed)."""
        path = Path(path)
        names = [image] if isinstance(image, str) else list(image)
        image = " ".join(names)

        def save() -> None:
            if len(names) == 1:
                chunks = self.api.get_image(names[0])
            else:   # GET /images/get?names=a&names=b: what the docker CLI sends
                chunks = self.api._stream_raw_result(self.api._get(
                    self.api._url("/images/get"), params={"names": names}, stream=True),
                    chunk_size=1 << 20, decode=False)
            with path.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)

        try:
            self._long_call(f"saving {image}", save)
        except _SDK_ERRORS as err:  # before OSError: requests' errors are OSErrors too
            raise EngineError(f"cannot save {image}: {_engine_message(err)}") from None
        except OSError as err:
            raise EngineError(f"cannot write {path}: {err.strerror}") from None
        return path

    def inspect(self, image: str) -> dict:
        """``docker image inspect`` as a dict."""
        try:
            return self.api.inspect_image(image)
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot inspect {image}: {_engine_message(err)}") from None

    def history(self, image: str) -> list[dict]:
        """``docker history`` rows, newest first."""
        try:
            return self.api.history(image)
        except _SDK_ERRORS as err:
            raise EngineError(f"no history for {image}: {_engine_message(err)}") from None

    def listed_size(self, image: str) -> int:
        """The size ``docker images`` shows for ``image`` (bytes; differs by image store)."""
        image_id = self.inspect(image)["Id"]
        # Ask for this image by name first: a full listing reads every image's config,
        # and fails when another user of a shared engine removes one meanwhile.
        for query in ({"name": image}, {"all": True}):
            try:
                rows = self.api.images(**query)
            except _SDK_ERRORS as err:
                raise EngineError(f"cannot list images: {_engine_message(err)}") from None
            for row in rows:
                if row["Id"] == image_id:
                    return int(row["Size"])
        raise EngineError(f"{image} is not in the engine's image list")

    def remember(self, image: str) -> None:
        """Remember ``image`` (made by a docker command line) so :meth:`cleanup` removes it."""
        self._created.add(image)

    def remove(self, image: str) -> None:
        """Remove ``image`` (forced; untagged parents go too). Missing is fine."""
        try:
            self.api.remove_image(image, force=True)
        except docker.errors.NotFound:
            pass
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot remove {image}: {_engine_message(err)}") from None
        self._created.discard(image)

    def cleanup(self, everything: bool = False) -> int:
        """Remove what this Engine created (images it built, loaded or imported, and
        containers left behind); returns how many.

        Other learners' images on a shared engine are left alone. ``everything=True``
        also removes every container and image labelled ``org.labkit.lab`` by anyone.
        """
        try:
            containers = [c["Id"] for c in self.api.containers(all=True, filters={"label": LABEL})]
            labelled = ([row["Id"] for row in self.api.images(filters={"label": LABEL})]
                        if everything else [])
        except _SDK_ERRORS as err:
            raise EngineError(f"cleanup failed: {_engine_message(err)}") from None
        removed = self._remove([c for c in containers if everything or c in self._containers],
                               [*labelled, *sorted(self._created)])
        self._created.clear()
        self._containers.clear()
        return removed

    def _remove(self, containers: list[str], images: list[str]) -> int:
        """Remove ``containers`` (forced), then ``images`` (IDs or tags; a tag others share
        is only untagged); what is already gone is skipped. Returns how many went."""
        removed = 0
        for container in containers:
            try:
                self.api.remove_container(container, force=True)
                removed += 1
            except docker.errors.NotFound:
                pass
            except _SDK_ERRORS as err:
                if getattr(err, "status_code", None) != 409:   # removal already in progress
                    raise EngineError(f"cannot remove container {container[:12]}: "
                                      f"{_engine_message(err)}") from None
        for image in images:
            try:
                self.api.remove_image(image, force=True)
                removed += 1
            except docker.errors.NotFound:
                pass
            except _SDK_ERRORS as err:
                raise EngineError(f"cannot remove {image}: {_engine_message(err)}") from None
        return removed

    def owned_by(self, name: str) -> tuple[list[str], list[str]]:
        """``(containers, image tags)`` of namespace ``name`` on this engine: containers
        labelled ``org.labkit.namespace=<name>`` or made from a ``<name>/...`` image, and
        every tag ``<name>/...`` (whoever made them: a learner's kernels each have their
        own Engine, the namespace is what they share).

        Example:
            >>> eng.owned_by("labkit-learner-01")                      # doctest: +SKIP
            ([], ['labkit-learner-01/hello-legacy:legacy'])
        """
        prefix = f"{name}/"
        try:
            rows = self.api.containers(all=True)
            images = self.api.images()
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot list what {name} made: {_engine_message(err)}") from None
        containers = [c["Id"] for c in rows
                      if (c.get("Labels") or {}).get(NAMESPACE_LABEL) == name
                      or str(c.get("Image", "")).startswith(prefix)]
        tags = sorted(t for row in images for t in row.get("RepoTags") or [] if t.startswith(prefix))
        return containers, tags

    def cleanup_namespace(self, name: str) -> int:
        """Remove one namespace's containers and image tags (see :meth:`owned_by`): what one
        learner's notebooks made on a shared engine, and nothing of anyone else's (an image
        another learner also tagged keeps that tag). Returns how many were removed.

        Raises:
            EngineError: ``name`` is the default namespace (``lab``: everyone's who set
                none; use :meth:`cleanup`), or the engine refused.

        Example:
            >>> eng.cleanup_namespace("labkit-learner-01")             # doctest: +SKIP
            3
        """
        if name == DEFAULT_NAMESPACE:
            raise EngineError(f"{name!r} is the default namespace, shared by everyone who set none",
                              hint="clean up a learner's own LABKIT_NAMESPACE, or use cleanup()")
        return self._remove(*self.owned_by(name))
