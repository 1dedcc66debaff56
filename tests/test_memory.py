"""Memory freed by worker threads goes back to the system after each chunk (glibc)."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import threading
from aftercare.memory import release_freed_memory

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

kept = []
def work():
    # 100 MB in blocks beyond pymalloc's small objects (so glibc malloc, in this thread's
    # arena); keeping every tenth leaves the rest as holes that glibc does not return itself.
    blocks = [bytes(2000) for _ in range(50_000)]
    kept.extend(blocks[::10])

thread = threading.Thread(target=work)
thread.start()
thread.join()
before = rss_mb()
assert release_freed_memory()
print(before - rss_mb())
"""


def test_a_chunks_freed_memory_is_returned_to_the_system():
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    )
    assert float(child.stdout) > 30, "MB returned by the trim"
