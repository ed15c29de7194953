"""Every exercise of the lab, by id (``<notebook>.<n>``; ``dd.<n>`` for the deep dives),
with a short title -- and the ids a learner's saved progress may still carry.

The lessons were renumbered (issue 17: notebook 02 split in two, the exercises moved
beside the steps they test). A progress file written before that names the old ids;
:data:`OLD_IDS` says which new exercise each one is, so what a learner passed still
counts. A file written since carries ``"ids": IDS_VERSION``.

Example:
    >>> EXERCISES["01.2"]
    "The digest of the tar program's empty archive"
    >>> OLD_IDS["02.4"]
    '02.3'
"""
EXERCISES = {
    "00.1": "Read the mode line",
    "00.2": "The least an image needs",
    "01.1": "A new date: the same image ID?",
    "01.2": "The digest of the tar program's empty archive",
    "01.3": "Write the empty image as an OCI layout",
    "02.1": "Your own tiny hello",
    "02.2": "The smallest possible layer",
    "02.3": "A multi-stage Dockerfile",
    "03.1": "The file the kernel looks for first",
    "03.2": "Fix an image that fails twice in scratch",
    "03.3": "ENTRYPOINT and CMD",
    "04.1": "Same file, different digest",
    "04.2": "What docker save writes here",
    "05.1": "A shell in a FROM scratch image",
    "05.2": "Deleting busybox in a second layer",
    "05.3": "Name a whiteout",
    "05.4": "An opaque whiteout",
    "06.1": "The pull size, read from the registry",
    "06.2": "A second image that shares a layer",
    "06.3": "The digest no compressor changes",
    "06.4": "What unknown/unknown is",
    "dd.1": "Docker 1.4's history",
}

#: The ids of progress files written before the renumbering -> the same exercise today.
OLD_IDS = {
    "00.1": "00.1", "00.2": "00.2",
    "01.1": "01.3", "01.2": "01.2", "01.3": "01.1",
    "02.1": "02.1", "02.2": "03.1", "02.3": "02.2", "02.4": "02.3", "02.5": "03.2",
    "03.1": "dd.1", "03.2": "04.1", "03.3": "04.2",
    "04.1": "05.1", "04.2": "05.2", "04.3": "05.3",
    "05.1": "06.1", "05.2": "06.2", "05.3": "06.3", "05.4": "06.4",
}

#: What a progress file written with today's ids says of itself (``"ids": 2``).
IDS_VERSION = 2


def current_ids(found: dict, version) -> dict:
    """``found`` (exercise id -> anything) with every id in today's numbering: a file
    without ``"ids": 2`` was written before the renumbering. Unknown ids are left out.

    Example:
        >>> current_ids({"02.5": "2026-01-05", "99.9": "x"}, None)
        {'03.2': '2026-01-05'}
        >>> current_ids({"03.3": "2026-03-01"}, IDS_VERSION)
        {'03.3': '2026-03-01'}
    """
    if version == IDS_VERSION:
        return {k: v for k, v in found.items() if k in EXERCISES}
    return {OLD_IDS[k]: v for k, v in found.items() if k in OLD_IDS}
