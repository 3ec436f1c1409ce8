"""The local backend's lock: `.mlops/state.lock.json`, flock()ed by its holder."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mlops_decl.state.fsutil import ensure_dir, pid_alive, sweep, temp_prefix, write_all
from mlops_decl.state.model import StateError
from mlops_decl.state.store import LockHeld, LockInfo, WithBlock


def lock_path_for(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + ".lock.json")  # state.json -> state.lock.json


class LocalLock(WithBlock):
    """A lock file holding the LockInfo JSON, also flock()ed by the holder for its whole life.

    The flock is what makes a killed holder's lock stale: the kernel drops it on process death.
    A record from another host (shared filesystem) cannot be judged so stays until force_unlock.
    Acquire, release and force-unlock of processes on this host are serialised by a flock on a
    permanent guard file, so "is it stale?" and "take it over" are one atomic step.
    """

    def __init__(self, path: Path, name: str | None = None):
        self.path = Path(path)
        self.name = name  # of a named lock, for messages
        self._guard_path = self.path.with_suffix(".guard")
        self._mu = threading.Lock()
        self._fd: int | None = None  # our lock file, flocked while we hold the lock
        self.info: LockInfo | None = None

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        ensure_dir(self.path.parent)
        fd = os.open(self._guard_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for milliseconds only
            yield
        finally:
            os.close(fd)

    def describe(self) -> str:
        return f"lock file {self.path}"

    def acquire(self, info: LockInfo, timeout: float = 0.0) -> None:
        # Polled, as Terraform's -lock-timeout is: a holder may be on another host, where no
        # flock reaches; the wait grows to 0.5 s, with jitter so waiters do not move in step.
        deadline, pause = time.monotonic() + max(timeout, 0.0), 0.02
        while True:
            try:
                self._acquire_once(info)
                return
            except LockHeld as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LockHeld(exc.holder, timeout, self.name) from None
            time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
            pause = min(pause * 2, 0.5)

    def holder(self) -> LockInfo | None:
        with self._guarded():
            try:
                hfd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return None
            try:
                holder = self._parse(os.read(hfd, 1 << 16))
                mine = self._fd is not None and self.info is not None and self.info.id == holder.id
                return holder if mine or not self._stale(holder, hfd) else None
            finally:
                os.close(hfd)

    def _acquire_once(self, info: LockInfo) -> None:
        with self._mu:
            if self._fd is not None:
                raise StateError(f"this process already holds the lock (id {self.info and self.info.id})")
            with self._guarded():
                fd, tmp = self._prepare(info)
                try:
                    self._install(tmp)
                except BaseException:
                    os.close(fd)
                    raise
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
            self._fd, self.info = fd, info

    def _prepare(self, info: LockInfo) -> tuple[int, str]:
        """A complete, flocked lock file under a temporary name."""
        sweep(self.path)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=temp_prefix(self.path), suffix=".tmp")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            write_all(fd, (json.dumps(info.to_json(), indent=2) + "\n").encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        return fd, tmp

    def _install(self, tmp: str) -> None:
        for _ in range(10):
            try:
                # link() rather than O_CREAT|O_EXCL: equally atomic (also on NFS), and the lock
                # file never exists half-written for a reader on another host.
                os.link(tmp, self.path)
                return
            except FileExistsError:
                pass
            try:
                hfd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # released meanwhile (another host): try again
            try:
                holder = self._parse(os.read(hfd, 1 << 16))
                if not self._stale(holder, hfd):
                    raise LockHeld(holder)
                os.replace(tmp, self.path)  # take over; the path never goes missing
                return
            finally:
                os.close(hfd)
        raise StateError(f"could not take the lock {self.path}: it keeps changing")

    def _parse(self, raw: bytes) -> LockInfo:
        return LockInfo.parse(raw, f"lock file {self.path}")

    @staticmethod
    def _stale(holder: LockInfo, hfd: int) -> bool:
        if holder.host != socket.gethostname():
            return False
        try:
            fcntl.flock(hfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(hfd, fcntl.LOCK_UN)  # only a test: a takeover replaces the file
            return True  # nobody holds its flock: the holder died
        except BlockingIOError:
            # Still flocked, e.g. by a forked child that inherited the descriptor.
            return not pid_alive(holder.pid)

    def release(self) -> None:
        with self._mu:
            if self._fd is None:
                return
            try:
                with self._guarded():
                    mine = os.fstat(self._fd)
                    with contextlib.suppress(FileNotFoundError):
                        st = os.stat(self.path)
                        if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
                            os.unlink(self.path)  # else it was force-unlocked and maybe re-taken
            finally:
                os.close(self._fd)
                self._fd, self.info = None, None

    def force_unlock(self, lock_id: str) -> None:
        with self._mu, self._guarded():
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                raise StateError(f"the state is not locked (no {self.path})") from None
            holder = self._parse(raw)
            if holder.id != lock_id:
                raise StateError(
                    f"lock id {lock_id} does not match the current lock: held by {holder.who} "
                    f"for `{holder.operation}` since {holder.created}, id {holder.id}"
                )
            os.unlink(self.path)
            if self._fd is not None and self.info is not None and self.info.id == lock_id:
                os.close(self._fd)
                self._fd, self.info = None, None
