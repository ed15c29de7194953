"""Checkers of notebook 05, what a registry stores.

Example:
    >>> print(check_05_4("a provenance attestation, not an image"))  # doctest: +ELLIPSIS
    ✔ 05.4 ...
"""
from __future__ import annotations

import numbers
import re

from labkit import observe, registry
from labkit.checks.verdict import Verdict, unanswered, verdict
from labkit.scenarios import hello_image

#: The recorded push 05.1 asks about: Docker 20.10.24 pushing the busybox image with a
#: second, whiteout layer (notebook 4's ``busybox-trimmed``).
PUSH_51 = ("registry-push", "busybox-trimmed")


#: The repositories notebook 05 pushes to itself: exercise 5.2 asks for a new one.
NOTEBOOK_REPOSITORIES = frozenset({"lab/hello", "lab/busybox", "lab/busybox-trimmed", "lab/from-28"})


def _pushed_51() -> dict:
    return observe.reference()[PUSH_51[0]][PUSH_51[1]].extra


def check_05_1(answer) -> Verdict:
    """The pull size of the recorded busybox-trimmed push: the sum of its layer blobs."""
    if answer is None:
        return unanswered("05.1", "a number of bytes")
    pushed = _pushed_51()
    right = sum(layer["size"] for layer in pushed["layers"])
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if isinstance(answer, str) and answer.replace(",", "").replace("_", "").strip().isdigit():
        return verdict("05.1", False, f"That is the text {answer!r}; the answer is a number.",
                        "write it without quotes")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
        return verdict("05.1", False, f"{answer!r} is not a whole number of bytes.",
                        "add up the \"size\" of each entry of the manifest's \"layers\"")
    answer = int(answer)
    if answer == right:
        return verdict("05.1", True, f"{right:,} bytes: the compressed layers are what a pull downloads "
                        "(plus a few hundred bytes of manifest and config).")
    with_json = right + pushed["config"]["size"] + pushed["manifest"]["size"]
    if answer == with_json:
        return verdict("05.1", False, "That adds the config and the manifest too: every byte fetched, but "
                        "registries and `docker pull` report the layers.", "sum the layers only")
    if answer > right * 1.5:
        return verdict("05.1", False, "That is about the uncompressed size, what `docker images` shows.",
                        "use the sizes the manifest gives for the layer blobs (compressed)")
    return verdict("05.1", False, f"{answer:,} is not the sum of the layer sizes.",
                    "each layer descriptor in the manifest has a \"size\": add those")


def check_05_2(transfer) -> Verdict:
    """A push of an image that shares its base layer with one pushed before and adds a
    layer of its own. Judged by the image's layers, so running the cell again (when the
    registry already holds every blob) still passes."""
    if transfer is None:
        return unanswered("05.2", "what labkit.registry.push(...) returned")
    if not isinstance(transfer, registry.Transfer):
        return verdict("05.2", False, f"{type(transfer).__name__} is not a push result.",
                        "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    repository = transfer.reference.split("/", 1)[-1].rsplit("@", 1)[0].rsplit(":", 1)[0]
    if repository in NOTEBOOK_REPOSITORIES:
        return verdict("05.2", False, f"That is the notebook's own push to {repository}; the exercise asks "
                        "for an image of yours, in a new repository.",
                        "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    if not any(b.action == "put" for b in transfer.blobs):
        return verdict("05.2", False, "That is a pull; the exercise asks for a push.",
                        "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    layers = [b for b in transfer.blobs if b.kind == "layer"]
    reused = [b for b in layers if b.action in ("mounted", "exists")]
    sent = [b for b in layers if b.action == "uploaded"]
    if len(layers) < 2:
        return verdict("05.2", False, f"The image has {len(layers)} layer(s): base_layer alone adds nothing "
                        "of your own.", "labkit.oci.Image([base_layer, [labkit.oci.Entry.file(...)]], ...)")
    if not reused:
        return verdict("05.2", False, "Every layer was uploaded: this image shares no layer with what the "
                        "registry holds.", "start from base_layer (pushed above), and add one layer of your own")
    kept = f"{len(reused)} layer(s) not sent ({sum(b.size for b in reused):,} bytes)"
    if not sent and any(b.action == "mounted" for b in reused):
        return verdict("05.2", False, "Every layer was mounted from another repository: none of them is "
                        "yours. The exercise asks for one layer of your own on top of base_layer.",
                        "labkit.oci.Image([base_layer, [labkit.oci.Entry.file(\"hello.txt\", b\"mine\\n\")]], ...)")
    if not sent:
        return verdict("05.2", True, f"Every blob was already in the registry (this push ran before): {kept}; "
                        f"only the manifest went over ({transfer.moved:,} bytes in all).")
    how = "mounted from the other repository" if any(b.action == "mounted" for b in reused) else "already there"
    return verdict("05.2", True, f"{kept}, {how}; {len(sent)} uploaded ({sum(b.size for b in sent):,} bytes). "
                    f"{transfer.moved:,} bytes sent in all, config and manifest included.")


def check_05_3(digest) -> Verdict:
    """The digest of the hello layer that does not depend on the compressor: its diff_id."""
    if digest is None:
        return unanswered("05.3", "a digest string, sha256:…")
    answer = str(digest).strip().lower()
    if not answer.startswith("sha256:"):
        return verdict("05.3", False, "A digest names its algorithm first.", "sha256:<64 hex digits>")
    modern, older = hello_image("modern").diff_ids[0], hello_image("20.10").diff_ids[0]
    if answer == modern:
        return verdict("05.3", True, "The diff_id: the sha256 of the uncompressed tar. Every compressor "
                        "gives other blob bytes, so another blob digest; the config keeps the diff_id.")
    if answer == older:
        return verdict("05.3", True, "A diff_id (the 20.10 headers' tar). It stays, whoever compresses it.")
    return verdict("05.3", False, "That is not the hello layer's diff_id; a blob digest (of compressed "
                    "bytes) changes with the compressor.", "look in the config's rootfs.diff_ids")


def check_05_4(answer) -> Verdict:
    """What the ``unknown/unknown`` entry of a BuildKit index is."""
    if answer is None:
        return unanswered("05.4", "a few words")
    text = " ".join(str(answer).lower().split())
    if re.search(r"\b(not|isn't|no)\b (an? )?(attest|provenance|sbom)", text):
        return verdict("05.4", False, "Look again: the entry's annotations say what it is.",
                        "read vnd.docker.reference.type in that index entry")
    if re.search(r"attest|provenance|sbom|in-toto|slsa", text) or (
            re.search(r"\bbuil[dt]", text) and re.search(r"metadata|\binfo|record|details|\bhow\b|descri|document|"
                                                     r"\bdata\b", text)) or re.search(r"supply.?chain", text):
        return verdict("05.4", True, "An attestation manifest (build provenance): not an image for any "
                        "platform, so engines picking a platform never run it.")
    if "arm" in text or "platform" in text or "architecture" in text:
        return verdict("05.4", False, "It is not an image for another platform.",
                        "look at its annotations: vnd.docker.reference.type")
    return verdict("05.4", False, "Not quite.", "read the annotations of that index entry")
