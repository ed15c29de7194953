"""Images on an engine: load, import, save, inspect, history, list, remove, clean up.

Example:
    >>> eng.load("hello.tar")                                  # doctest: +SKIP
    ['lab/hello:latest']
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import docker.errors
import requests.exceptions

from labkit.engine.base import _SDK_ERRORS, DEFAULT_NAMESPACE, LABEL, NAMESPACE_LABEL, _engine_message
from labkit.errors import EngineError


#: Set to ``1`` (a class server does, for an engine its learners share): the engine is
#: shared, so before labkit removes a tag it *holds* the image under ``labkit-held:<id>``.
SHARED_ENV = "LABKIT_SHARED_ENGINE"
HELD = "labkit-held"


def is_image_id(ref: str) -> bool:
    """True when ``ref`` is an image ID (``sha256:...`` or a hex prefix), not a name.

    Example:
        >>> is_image_id("sha256:5f70bf18a086"), is_image_id("5f70bf18a086"), is_image_id("lab/x:1")
        (True, True, False)
    """
    return bool(re.fullmatch(r"(sha256:)?[0-9a-f]{12,64}", ref))


def _repository(tag: str) -> str:
    """``tag`` without its registry host (``127.0.0.1:5000/a/b:1`` -> ``a/b:1``).

    Example:
        >>> _repository("127.0.0.1:5000/labkit-learner-01/x:1"), _repository("lab/x:1")
        ('labkit-learner-01/x:1', 'lab/x:1')
    """
    first, _, rest = tag.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else tag


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
        self._created.update(ref for ref in loaded if not is_image_id(ref))   # by name only
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
        """Remove the tag ``image``, by name and never forced: the image itself goes only
        when no other tag holds it (see :meth:`_remove`). Missing is fine.

        Raises:
            EngineError: ``image`` is an image ID, or the engine refused (a container of it runs).

        Example:
            >>> eng.remove("lab/hello:latest")                          # doctest: +SKIP
        """
        if is_image_id(image):
            raise EngineError(f"{image[:19]} is an image ID: labkit removes images by name only",
                              hint="an ID may be another learner's image too: remove the tag you gave it")
        if not self._remove([], [image]) and self._exists(image):
            raise EngineError(f"cannot remove {image}: a container still uses it",
                              hint="remove that container first")
        self._created.discard(image)

    def _exists(self, image: str) -> bool:
        try:
            self.api.inspect_image(image)
        except docker.errors.NotFound:
            return False
        return True

    def cleanup(self, everything: bool = False) -> int:
        """Remove what this Engine created (the containers it left, the tags it built,
        loaded or imported); returns how many.

        Other learners' images on a shared engine are left alone. ``everything=True``
        also removes every container and image tag labelled ``org.labkit.lab`` by anyone.
        """
        try:
            containers = [c["Id"] for c in self.api.containers(all=True, filters={"label": LABEL})]
            labelled = ([tag for row in self.api.images(filters={"label": LABEL})
                         for tag in row.get("RepoTags") or [] if tag != "<none>:<none>"]
                        if everything else [])
        except _SDK_ERRORS as err:
            raise EngineError(f"cleanup failed: {_engine_message(err)}") from None
        removed = self._remove([c for c in containers if everything or c in self._containers],
                               [*labelled, *sorted(self._created)])
        self._created.clear()
        self._containers.clear()
        return removed

    def _remove(self, containers: list[str], images: list[str]) -> int:
        """Remove ``containers`` (forced: each is one learner's own), then the tags in
        ``images``; returns how many went. What is already gone is skipped.

        On an engine learners share, the lab's reproducible images have the same ID for
        everyone. So an image is removed by its name only, never forced: an ID, or a
        forced removal, drops every tag on that image, other learners' included. And
        even by name the engine deletes the image with its last tag -- while another
        learner may be loading the very same image: their load finds it, then loses it
        ("no such image"; measured on 20.10.24: 24 of 300 loads lost, forced, 40 not
        forced). With ``LABKIT_SHARED_ENGINE=1`` the image is first *held*
        (``labkit-held:<id>``), so a learner's removal only ever untags; the class
        server lets go of held images when no learner runs (:meth:`release_held`).
        """
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
            if is_image_id(image):
                continue
            try:
                self._hold(image)
                self.api.remove_image(image, force=False)
                removed += 1
            except docker.errors.NotFound:
                pass
            except _SDK_ERRORS as err:
                if getattr(err, "status_code", None) != 409:   # a container uses it
                    raise EngineError(f"cannot remove {image}: {_engine_message(err)}") from None
        return removed

    def _hold(self, ref: str) -> None:
        """On a shared engine (``LABKIT_SHARED_ENGINE=1``), tag ``ref``'s image
        ``labkit-held:<id>`` (a NotFound passes through to the caller)."""
        if os.environ.get(SHARED_ENV) != "1" or ref.startswith(f"{HELD}:"):
            return
        image_id = self.api.inspect_image(ref)["Id"]
        self.api.tag(image_id, HELD, image_id.split(":")[-1])

    def release_held(self) -> int:
        """Let go of the images held on a shared engine (``labkit-held:*``): each goes
        unless another tag still names it. Only when no learner runs (a class's down).
        Returns how many tags were removed.

        Example:
            >>> eng.release_held()                                      # doctest: +SKIP
            7
        """
        try:
            held = [t for row in self.api.images(name=HELD) for t in row.get("RepoTags") or []
                    if t.startswith(f"{HELD}:")]
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot list held images: {_engine_message(err)}") from None
        return self._remove([], held)

    def tags(self) -> set[str]:
        """Every image tag on the engine (``docker images``' REPOSITORY:TAG, untagged ones left out).

        Example:
            >>> "labkit/build-base:bookworm" in eng.tags()                  # doctest: +SKIP
            True
        """
        try:
            rows = self.api.images()
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot list the engine's images: {_engine_message(err)}") from None
        return {t for row in rows for t in row.get("RepoTags") or [] if t != "<none>:<none>"}

    def owned_by(self, name: str) -> tuple[list[str], list[str]]:
        """``(containers, image tags)`` of namespace ``name`` on this engine: containers
        labelled ``org.labkit.namespace=<name>`` or made from a ``<name>/...`` image, and
        every tag ``<name>/...``, on a registry too (``127.0.0.1:PORT/<name>/...``), whoever
        made them (a learner's kernels each have their own Engine; the namespace is what
        they share).

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
        tags = sorted(t for row in images for t in row.get("RepoTags") or [] if _repository(t).startswith(prefix))
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
