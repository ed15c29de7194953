"""Checkers of notebook 06, what a registry stores: the pull size read from the registry
(06.1), a second image that shares a layer (06.2), the digest no compressor changes
(06.3), what ``unknown/unknown`` is (06.4).

06.1 and 06.2 ask the registry the notebook runs (``work/06/registry``, or labkit's
default one) what it really holds.

Example:
    >>> print(check_06_4("b"))  # doctest: +ELLIPSIS
    ✔ 06.4 ...
"""
from __future__ import annotations

from pathlib import Path

from labkit import registry
from labkit.checks.verdict import (Verdict, not_verified, number_answer, text_answer, unanswered,
                                   verdict)
from labkit.errors import LabkitError
from labkit.scenarios import hello_image

#: The image notebook 06 pushes without printing its size: exercise 6.1 asks for its pull size.
PULL_SIZE_REFERENCE = "lab/busybox-trimmed:1"
#: The repositories notebook 06 pushes to itself: exercise 6.2 asks for a new one.
NOTEBOOK_REPOSITORIES = frozenset({"lab/hello", "lab/busybox", "lab/busybox-trimmed", "lab/from-28"})
#: Where the notebook runs its registry (relative to the notebook's folder).
NOTEBOOK_REGISTRY = Path("work") / "06" / "registry"


def _registries() -> list:
    """Clients for the labkit registries that answer: the notebook's, then the default."""
    found = []
    for root in (Path.cwd() / NOTEBOOK_REGISTRY, None):
        try:
            server = registry.status(root)
            if server is not None and server.healthy:
                found.append(registry.connect(server))
        except (LabkitError, OSError, ValueError):
            continue
    return found


def _pull_sizes(reg) -> dict[str, tuple[int, int]]:
    """``repo:tag`` -> (pull size, config + manifest bytes) of every image in ``reg``."""
    sizes = {}
    try:
        for repository in reg.catalog():
            for tag in reg.tags(repository):
                stored = registry.describe(reg, f"{repository}:{tag}")
                image = stored.image
                sizes[f"{repository}:{tag}"] = (image.pull_size, image.config.size + image.size)
    except (LabkitError, OSError, ValueError, KeyError):
        pass
    return sizes


def check_06_1(answer) -> Verdict:
    """The pull size of ``lab/busybox-trimmed:1``: the sum of the layer sizes in the manifest
    the registry holds for it (read it there; the notebook does not print it)."""
    if answer is None:
        return unanswered("06.1", "a number of bytes")
    size, failed = number_answer("06.1", answer, "a whole number of bytes")
    if failed:
        return failed
    if not isinstance(size, int):
        return verdict("06.1", False, f"{size} is not a whole number of bytes.",
                       "add up the \"size\" of each entry of the manifest's \"layers\"")
    sizes = {}
    for reg in _registries():
        sizes = _pull_sizes(reg)
        reg.close()
        if PULL_SIZE_REFERENCE in sizes:
            break
    if PULL_SIZE_REFERENCE not in sizes:
        return not_verified("06.1", f"no registry here holds {PULL_SIZE_REFERENCE} (the notebook pushes it to "
                            f"its registry in {NOTEBOOK_REGISTRY})", f"{size:,} bytes cannot be compared with "
                            "anything.", "run the notebook's push cells, then this cell again")
    right, extra = sizes[PULL_SIZE_REFERENCE]
    if size == right:
        return verdict("06.1", True, f"{right:,} bytes: the compressed layers the manifest lists are what a pull "
                       "downloads (plus the config and the manifest, which registries leave out of the size).")
    if size == right + extra:
        return verdict("06.1", False, "That adds the config and the manifest too: every byte fetched, but "
                       "registries and `docker pull` report the layers.", "sum the layers only")
    other = next((ref for ref, (pull, _) in sizes.items() if pull == size and ref != PULL_SIZE_REFERENCE), None)
    if other:
        return verdict("06.1", False, f"That is the pull size of {other}; the exercise asks for "
                       f"{PULL_SIZE_REFERENCE}.", f"reg.manifest(\"{PULL_SIZE_REFERENCE.split(':')[0]}\", "
                       f"\"{PULL_SIZE_REFERENCE.split(':')[1]}\")")
    if size > right * 1.5:
        return verdict("06.1", False, "That is about the uncompressed size (what `docker images` shows); the "
                       "registry stores the layers compressed.", "use the sizes the manifest gives for the layers")
    return verdict("06.1", False, f"{size:,} is not the sum of the layer sizes of {PULL_SIZE_REFERENCE}.",
                   "each layer descriptor in the manifest has a \"size\": add those")


def _notebook_layers(transfer) -> set[str] | None:
    """The layer digests of the notebook's own images in the registry of ``transfer``;
    None when that registry cannot be asked."""
    host = transfer.reference.split("/", 1)[0]
    try:
        reg = registry.connect(host)
    except LabkitError:
        return None
    layers: set[str] = set()
    try:
        for repository in set(reg.catalog()) & NOTEBOOK_REPOSITORIES:
            for tag in reg.tags(repository):
                for manifest in registry.describe(reg, f"{repository}:{tag}").manifests:
                    layers.update(l.digest for l in manifest.layers)
    except (LabkitError, OSError, ValueError):
        return None
    finally:
        reg.close()
    return layers


def check_06_2(transfer) -> Verdict:
    """A push of an image of yours that shares a layer with one the notebook pushed and
    adds a layer of your own, to a new repository. Judged by the layers the registry
    holds, so running the cell again still passes."""
    if transfer is None:
        return unanswered("06.2", "what labkit.registry.push(...) returned")
    if not isinstance(transfer, registry.Transfer):
        return verdict("06.2", False, f"{type(transfer).__name__} is not a push result.",
                       "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    repository = transfer.reference.split("/", 1)[-1].rsplit("@", 1)[0].rsplit(":", 1)[0]
    if repository in NOTEBOOK_REPOSITORIES:
        return verdict("06.2", False, f"That is the notebook's own repository {repository}; the exercise asks "
                       "for an image of yours, in a new repository.", "answer = labkit.registry.push(reg, image, "
                       "\"lab/yours:1\")")
    if not any(b.action == "put" for b in transfer.blobs):
        return verdict("06.2", False, "That is a pull; the exercise asks for a push.",
                       "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    layers = [b for b in transfer.blobs if b.kind == "layer"]
    if len(layers) < 2:
        return verdict("06.2", False, f"The image has {len(layers)} layer(s): a shared layer alone adds nothing "
                       "of your own.", "labkit.oci.Image([base_layer, [labkit.oci.Entry.file(...)]], ...)")
    theirs = _notebook_layers(transfer)
    if theirs is None:                        # the registry is gone: judge by what the push did
        shared = [b for b in layers if b.action in ("mounted", "exists")]
        own = [b for b in layers if b.action == "uploaded"]
    else:
        shared = [b for b in layers if b.digest in theirs]
        own = [b for b in layers if b.digest not in theirs]
    if not shared:
        return verdict("06.2", False, "No layer of this image is one the notebook pushed: it shares nothing.",
                       "start from base_layer (pushed above), and add one layer of your own")
    if not own:
        return verdict("06.2", False, "Every layer of this image is one the notebook pushed: none of them is "
                       "yours. The exercise asks for one layer of your own on top of a shared one.",
                       "labkit.oci.Image([base_layer, [labkit.oci.Entry.file(\"hello.txt\", b\"mine\\n\")]], ...)")
    kept = f"{len(shared)} shared layer(s) ({sum(b.size for b in shared):,} bytes)"
    how = {"mounted": "mounted from the notebook's repository, not sent", "exists": "already there, not sent",
           "uploaded": "sent"}
    done = sorted({how.get(b.action, b.action) for b in shared})
    return verdict("06.2", True, f"{kept}: {', '.join(done)}; {len(own)} layer(s) of your own "
                   f"({sum(b.size for b in own):,} bytes). {transfer.moved:,} bytes sent in all by this push.")


def check_06_3(digest) -> Verdict:
    """The digest of the hello layer that does not depend on the compressor: its diff_id."""
    if digest is None:
        return unanswered("06.3", "a digest string, sha256:…")
    text, failed = text_answer("06.3", digest, "a digest string, sha256:…")
    if failed:
        return failed
    answer = text.strip().strip("\"'`").lower().replace(" ", "")
    if not answer.startswith("sha256:"):
        return verdict("06.3", False, "A digest names its algorithm first.", "sha256:<64 hex digits>")
    modern, older = hello_image("modern").diff_ids[0], hello_image("20.10").diff_ids[0]
    if answer == modern:
        return verdict("06.3", True, "The diff_id: the sha256 of the uncompressed tar. Every compressor "
                       "gives other blob bytes, so another blob digest; the config keeps the diff_id.")
    if answer == older:
        return verdict("06.3", True, "A diff_id (the 20.10 headers' tar). It stays, whoever compresses it.")
    return verdict("06.3", False, "That is not the hello layer's diff_id; a blob digest (of compressed "
                   "bytes) changes with the compressor.", "look in the config's rootfs.diff_ids")


#: 06.4's choices, and words that name each.
CHOICES = {"a": ("another cpu architecture", "another architecture", "architecture", "arm", "platform", "cpu"),
           "b": ("attestation", "provenance", "sbom", "in-toto", "slsa", "describing how the image was built",
                 "build metadata"),
           "c": ("failed push", "a failed push", "failed", "error", "broken push", "incomplete")}


def check_06_4(answer) -> Verdict:
    """What the ``unknown/unknown`` entry of a BuildKit index is: ``"a"`` an image for
    another CPU architecture, ``"b"`` an attestation manifest describing how the image
    was built, stored beside it, ``"c"`` what is left of a failed push."""
    if answer is None:
        return unanswered("06.4", "\"a\", \"b\" or \"c\"")
    text, failed = text_answer("06.4", answer, "a letter: \"a\", \"b\" or \"c\"")
    if failed:
        return failed
    clean = " ".join(text.strip().lower().split())
    letter = clean.strip("()[]. :)") if len(clean) <= 4 else None
    if letter not in CHOICES:
        named = [k for k, words in CHOICES.items() if any(w in clean for w in words)]
        negated = any(n in clean.split() for n in ("not", "no", "isn't", "never"))
        if len(named) != 1 or negated:
            return verdict("06.4", False, f"{text!r}: answer with one letter.", "\"a\", \"b\" or \"c\"")
        letter = named[0]
    if letter == "b":
        return verdict("06.4", True, "An attestation manifest (build provenance), stored beside the image in "
                       "the index: its platform is unknown/unknown, so engines picking a platform never run it.")
    if letter == "a":
        return verdict("06.4", False, "An image for another CPU architecture names its platform (linux/arm64 …); "
                       "this one names none.", "read the entry's annotations: vnd.docker.reference.type")
    return verdict("06.4", False, "The push succeeded: a failed push leaves no manifest for a tag to name.",
                   "read the entry's annotations: vnd.docker.reference.type")
