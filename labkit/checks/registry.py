"""Checkers of notebook 05, what a registry stores.

Example:
    >>> print(check_05_4("a provenance attestation, not an image"))  # doctest: +ELLIPSIS
    ✔ 05.4 ...
"""
from __future__ import annotations

from labkit import observe, registry
from labkit.checks.verdict import Verdict, unanswered, verdict
from labkit.scenarios import hello_image

#: The recorded push 05.1 asks about: Docker 20.10.24 pushing the busybox image with a
#: second, whiteout layer (notebook 4's ``busybox-trimmed``).
PUSH_51 = ("registry-push", "busybox-trimmed")


def _pushed_51() -> dict:
    return observe.reference()[PUSH_51[0]][PUSH_51[1]].extra


def check_05_1(answer) -> Verdict:
    """The pull size of the recorded busybox-trimmed push: the sum of its layer blobs."""
    if answer is None:
        return unanswered("05.1", "a number of bytes")
    pushed = _pushed_51()
    right = sum(layer["size"] for layer in pushed["layers"])
    if isinstance(answer, bool) or not isinstance(answer, int):
        return verdict("05.1", False, f"{answer!r} is not a whole number of bytes.",
                        "add up the \"size\" of each entry of the manifest's \"layers\"")
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
    """A push to a new repository of an image that shares a layer with one pushed before."""
    if transfer is None:
        return unanswered("05.2", "what labkit.registry.push(...) returned")
    if not isinstance(transfer, registry.Transfer):
        return verdict("05.2", False, f"{type(transfer).__name__} is not a push result.",
                        "answer = labkit.registry.push(reg, image, \"lab/yours:1\")")
    layers = [b for b in transfer.blobs if b.kind == "layer"]
    reused = [b for b in layers if b.action in ("mounted", "exists")]
    sent = [b for b in layers if b.action == "uploaded"]
    if not reused:
        return verdict("05.2", False, "Every layer was uploaded: this image shares no layer with what the "
                        "registry holds.", "start from base_layer, and add one layer of your own")
    if not sent:
        return verdict("05.2", False, "Nothing new was uploaded: that is the same image again.",
                        "add a layer of your own on top of base_layer")
    how = "mounted from the other repository" if any(b.action == "mounted" for b in reused) else "already there"
    return verdict("05.2", True, f"{len(reused)} layer(s) {how} ({sum(b.size for b in reused):,} bytes not "
                    f"sent), {len(sent)} uploaded ({sum(b.size for b in sent):,} bytes).")


def check_05_3(digest) -> Verdict:
    """The digest of the hello layer that does not depend on the compressor: its diff_id."""
    if digest is None:
        return unanswered("05.3", "a digest string, sha256:…")
    answer = str(digest).strip()
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
    text = str(answer).lower()
    if "attest" in text or "provenance" in text or "sbom" in text:
        return verdict("05.4", True, "An attestation manifest (build provenance): not an image for any "
                        "platform, so engines picking a platform never run it.")
    if "arm" in text or "platform" in text or "architecture" in text:
        return verdict("05.4", False, "It is not an image for another platform.",
                        "look at its annotations: vnd.docker.reference.type")
    return verdict("05.4", False, "Not quite.", "read the annotations of that index entry")
