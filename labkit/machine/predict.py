"""The IDs labkit predicts for the lesson's images, for the engine's architecture and
for the recordings' (amd64) side by side.

An image config names its architecture, so every image ID depends on it; the hello
layer's diff_id depends on the program's bytes, which differ per architecture. The empty
layer's diff_id and the layer counts do not.

Example:
    >>> rows = predicted_ids("arm64")
    >>> rows[0]["image"], rows[0]["recorded (amd64)"] != rows[0]["here (arm64)"]
    ('empty image (labkit)', True)
"""
from __future__ import annotations

from labkit import hello, host, oci


def hello_image(era: str = "modern", arch: str = "x86_64") -> oci.Image:
    """labkit's own build of the lab's hello image for ``arch``, with the layer-tar
    headers of ``era`` (the tiny hello, mtime 0, ``CMD ["/hello"]``).

    Example:
        >>> hello_image("20.10").diff_ids[0][:19]
        'sha256:afb7b93b28f3'
        >>> hello_image("modern", "arm64").architecture
        'arm64'
    """
    program = hello.tiny_elf(hello.DEFAULT_MESSAGE, host.machine_arch(arch))
    return oci.Image([[oci.Entry.file("hello", program, mode=0o755, mtime=0)]],
                     cmd=["/hello"], era=era, architecture=arch)


def _predictions(arch: str) -> dict[str, str]:
    return {
        "empty image (labkit)": oci.Image(architecture=arch).image_id,
        "FROM scratch, BuildKit on 20.10": oci.Image.buildkit_scratch("20.10", arch).image_id,
        "FROM scratch, BuildKit on 26 and 28": oci.Image.buildkit_scratch("modern", arch).image_id,
        "hello layer diff_id, 20.10 headers": hello_image("20.10", arch).diff_ids[0],
        "hello layer diff_id, 24+ headers": hello_image("modern", arch).diff_ids[0],
        "hello image (labkit)": hello_image("modern", arch).image_id,
        "hello program size": f"{len(hello.tiny_elf(hello.DEFAULT_MESSAGE, host.machine_arch(arch)))} B",
    }


def predicted_ids(arch: str = "amd64") -> list[dict[str, str]]:
    """What labkit predicts for the lesson's images on an ``arch`` engine, beside the
    amd64 values the recordings (and the lesson text) show: one row per image.

    Columns: ``image``, ``recorded (amd64)``, ``here (<arch>)``, ``same`` (``yes`` when
    the two agree; on an amd64 engine every row does).

    Example:
        >>> [r["same"] for r in predicted_ids("amd64")][:2]
        ['yes', 'yes']
    """
    name = host.oci_arch(arch)
    recorded, here = _predictions("amd64"), _predictions(name)
    column = f"here ({name})"
    return [{"image": key, "recorded (amd64)": recorded[key], column: here[key],
             "same": "yes" if recorded[key] == here[key] else "no"}
            for key in recorded]
