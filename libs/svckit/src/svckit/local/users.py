"""The unprivileged OS user a server runs as when we are root (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from svckit.local.errors import LocalServerError


@dataclass(frozen=True)
class ServerUser:
    """An OS account to run a child process as: its ids, ready for `subprocess.Popen(user=…)`."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    @classmethod
    def named(cls, name: str) -> ServerUser:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise LocalServerError(
                f"we run as root, so the server must run as another OS user, and there is no user {name!r}; "
                f"create one (`useradd --system {name}`) or run as a non-root user"
            ) from None
        return cls(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))

    def first_blocked_directory(self, path: Path) -> Path | None:
        """The first existing directory on the way to `path` that this user may not enter, if any."""
        for directory in reversed([path, *path.parents]):
            try:
                info = directory.stat()
            except FileNotFoundError:
                break
            if not stat.S_ISDIR(info.st_mode):
                continue
            if info.st_uid == self.uid:
                allowed = info.st_mode & stat.S_IXUSR
            elif info.st_gid in self.groups:
                allowed = info.st_mode & stat.S_IXGRP
            else:
                allowed = info.st_mode & stat.S_IXOTH
            if not allowed:
                return directory
        return None


def user_to_run_server_as(name: str) -> ServerUser | None:
    """`name` as a `ServerUser` when we are root; None otherwise, meaning: run the server as ourselves."""
    if os.geteuid() != 0:
        return None
    return ServerUser.named(name)
