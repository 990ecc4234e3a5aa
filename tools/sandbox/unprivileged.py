"""Running bubblewrap as an unprivileged host uid when fixloop itself runs as root.

bubblewrap started by root maps the sandbox's uid to host root: root-only files of the host
(`/etc/shadow`, a 0600 key) that the read-only root shows stay readable to the tests. So, as
root, the child drops to `SANDBOX_UID` (`nobody`) before it execs bubblewrap, whose user
namespace then maps the sandbox's uid to that unprivileged host uid.

An unprivileged bubblewrap can bind only what that uid can reach, so before dropping, the child
(still root, in a mount namespace of its own) binds each source the sandbox needs (the worktree,
the plugin, the interpreter's paths) onto a staging directory that uid can traverse
(`Staging.prepare`), and bubblewrap binds the staged copies back at their real paths. The
worktree itself is handed to the sandbox's group (`share_worktree`): group-owned and
group-writable, with `.git` left alone; its top directory stays root's, which git checks.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

SANDBOX_UID = 65534
"""The host uid and gid (`nobody`) the sandboxed tests run as when fixloop runs as root."""

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_BIND = 0x1000
MS_PRIVATE = 1 << 18


def drops_privileges() -> bool:
    """Whether the sandbox must leave root's uid before bubblewrap starts."""
    return os.geteuid() == 0


def drop_to_sandbox_uid() -> None:
    """In the child before exec: no supplementary groups, then the sandbox's gid and uid."""
    os.setgroups([])
    os.setgid(SANDBOX_UID)
    os.setuid(SANDBOX_UID)


def share_worktree(worktree: Path) -> None:
    """Make `worktree` readable and writable by the sandbox's group (symlinks and `.git` kept).

    Execute bits are added only to directories and files that are already executable by their
    owner, so git sees no mode change.
    """
    _share(worktree)
    for directory, subdirectories, files in os.walk(worktree):
        if directory == str(worktree):
            subdirectories[:] = [d for d in subdirectories if d != ".git"]
            files = [f for f in files if f != ".git"]
        for name in [*subdirectories, *files]:
            _share(Path(directory, name))


def _share(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return
    mode = info.st_mode | stat.S_IRGRP | stat.S_IWGRP
    if stat.S_ISDIR(info.st_mode) or info.st_mode & stat.S_IXUSR:
        mode |= stat.S_IXGRP
    if info.st_gid != SANDBOX_UID:
        os.chown(path, -1, SANDBOX_UID, follow_symlinks=False)
    if stat.S_IMODE(mode) != stat.S_IMODE(info.st_mode):
        os.chmod(path, stat.S_IMODE(mode))


def closed_ancestors(paths: list[str]) -> list[str]:
    """The outermost ancestors of `paths` that other users cannot traverse (mode without o+x).

    The unprivileged bubblewrap cannot make a bind's destination under one, so the sandbox hides
    each behind an empty tmpfs (which hides its other contents too) and binds the paths back.
    """
    found: list[str] = []
    for path in paths:
        for ancestor in reversed(Path(path).parents):
            if ancestor == Path("/") or any(ancestor.is_relative_to(f) for f in found):
                continue
            try:
                closed = not os.stat(ancestor).st_mode & stat.S_IXOTH
            except OSError:
                break
            if closed:
                found.append(str(ancestor))
                break
    return found


class Staging:
    """Where the child, still root, binds the sources the unprivileged bubblewrap must reach."""

    def __init__(self, private: Path, sources: list[str]) -> None:
        self.root = private / "staged"
        self.root.mkdir()
        self.sources = list(dict.fromkeys(sources))
        self.targets: dict[str, str] = {}
        for number, source in enumerate(self.sources):
            target = self.root / str(number)
            if Path(source).is_dir():
                target.mkdir()
            else:
                target.touch()
            self.targets[source] = str(target)
        for directory in (private, self.root):
            directory.chmod(0o711)

    def staged(self, source: str) -> str:
        """The path bubblewrap binds from for `source`."""
        return self.targets[source]

    def prepare(self) -> None:
        """In the child before exec: a private mount namespace with each source at its stage."""
        libc = ctypes.CDLL(None, use_errno=True)
        _check(libc.unshare(CLONE_NEWNS), "unshare the mount namespace")
        _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        for source, target in self.targets.items():
            _check(
                libc.mount(os.fsencode(source), os.fsencode(target), None, MS_BIND | MS_REC, None),
                f"bind {source}",
            )


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"cannot {what}: {os.strerror(errno)}")
