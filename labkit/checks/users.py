"""Who the runtime starts a container's process as, and what the kernel then lets it do:
the config's ``User`` looked up as moby/sys/user's GetExecUser does, and the kernel's
permission check of a file or folder (for :mod:`labkit.checks.runtime`).

Example:
    >>> exec_user("65534:65534", None, None)
    (65534, 65534, [])
"""
from __future__ import annotations


def _number(field: str) -> int:
    # Like Go's strconv.Atoi with the error ignored, as moby/sys/user parses these files.
    return int(field) if field.isdigit() else 0


def exec_user(spec: str, passwd: list[list[str]] | None, group: list[list[str]] | None
              ) -> tuple[int, int, list[int]]:
    """``(uid, gid, supplementary gids)`` the runtime starts the program as, for the
    config's ``User``, following moby/sys/user's GetExecUser.

    Raises:
        ValueError: the runtime's own words when it cannot find the user or group.

    Example:
        >>> exec_user("65534", None, None)
        (65534, 0, [])
        >>> exec_user("nobody", None, None)
        Traceback (most recent call last):
        ...
        ValueError: unable to find user nobody: no matching entries in passwd file
    """
    name, _, group_name = str(spec).strip().partition(":")
    uid, gid, sgids, matched = 0, 0, [], ""
    if name:
        rows = [r for r in passwd or [] if r[0] == name or (name.isdigit() and len(r) > 2
                                                             and _number(r[2]) == int(name))]
        if rows:
            row = rows[0] + [""] * 4
            matched, uid, gid = row[0], _number(row[2]), _number(row[3])
        elif name.isdigit():
            uid = int(name)
        else:
            raise ValueError(f"unable to find user {name}: no matching entries in passwd file")
    if group_name:
        rows = [r for r in group or [] if r[0] == group_name or (group_name.isdigit() and len(r) > 2
                                                                 and _number(r[2]) == int(group_name))]
        if rows:
            gid = _number((rows[0] + [""] * 3)[2])
        elif group_name.isdigit():
            gid = int(group_name)
        else:
            raise ValueError(f"unable to find group {group_name}: no matching entries in group file")
    elif matched:
        sgids = [_number((r + [""] * 4)[2]) for r in group or [] if matched in (r + [""] * 4)[3].split(",")]
    return uid, gid, sgids


def may(entry, bit: int, uid: int, gid: int, sgids: list[int]) -> bool:
    """The kernel's permission check of ``entry`` (its mode and owner) for ``bit`` (1 =
    execute or enter); root passes when any execute bit is set (files) or always (folders)."""
    mode = entry.mode & 0o777
    if uid == 0:
        return entry.type == "dir" or bool(mode & 0o111)
    if uid == entry.uid:
        return bool(mode & (bit << 6))
    if entry.gid in (gid, *sgids):
        return bool(mode & (bit << 3))
    return bool(mode & bit)
