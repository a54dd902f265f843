"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations).

A hash or a check costs ~0.25 s of CPU at these parameters, by design. Run on the event loop, it
stalls every other request of the process for that long (30 sign-ins at once held ``/healthz`` for
0.6 s), so the service calls the ``a…`` functions: the work runs on a small thread pool of its own
(argon2-cffi releases the GIL while hashing), at most :data:`MAX_AT_ONCE` at a time per process.
More requests wait their turn in the pool's queue instead of taking every core; how many may
arrive at all is the sign-in throttle's business (``ocop.accounts.ratelimit``).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 8



def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a container's cpuset), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 2


MAX_AT_ONCE = max(1, min(4, _usable_cpus() - 1))
"""Password hashes computed at once per process: leave a core to the event loop and the database."""

_pool = ThreadPoolExecutor(max_workers=MAX_AT_ONCE, thread_name_prefix="argon2")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


async def ahash_password(password: str) -> str:
    """:func:`hash_password` off the event loop (see the module docstring)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password, password)


async def averify_password(password_hash: str, password: str) -> bool:
    """:func:`verify_password` off the event loop (see the module docstring)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_password, password_hash, password)
