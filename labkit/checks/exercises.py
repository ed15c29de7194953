"""Every exercise of the lab, by id (``<notebook>.<n>``), with a short title.

Example:
    >>> EXERCISES["01.2"]
    'The digest of the empty layer'
"""
EXERCISES = {
    "00.1": "Read the mode line",
    "00.2": "The least an image needs",
    "01.1": "Write the empty image as an OCI layout",
    "01.2": "The digest of the empty layer",
    "01.3": "What names an image",
    "02.1": "Your own tiny hello",
    "02.2": "What the dynamic hello is missing",
    "02.3": "The smallest possible layer",
    "02.4": "A multi-stage Dockerfile",
    "02.5": "Fix an image that fails twice in scratch",
    "03.1": "Docker 1.4's history",
    "03.2": "Same file, different digest",
    "03.3": "What docker save writes today",
    "04.1": "A shell in a FROM scratch image",
    "04.2": "Deleting busybox in a second layer",
    "04.3": "Name a whiteout",
    "05.1": "The pull size of a manifest",
    "05.2": "A second image that shares a layer",
    "05.3": "The digest no compressor changes",
    "05.4": "What unknown/unknown is",
}

