"""The hot paths' in-memory copies (bantico/ingest/caches.py): they expire, make room for new
entries, and go stale at once when their kind of rows changes."""

from __future__ import annotations

import threading

from bantico.ingest import cache_versions
from bantico.ingest.caches import TTLCache, forget_links, forget_projects


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_copy_is_kept_until_it_expires() -> None:
    clock = Clock()
    cache: TTLCache[str, str] = TTLCache(ttl=30.0, max_size=10, timer=clock)
    assert cache.get("spring") is None
    cache.put("spring", "https://a.example/")
    clock.now += 29.9
    assert cache.get("spring") == "https://a.example/"
    clock.now += 0.2
    assert cache.get("spring") is None
    assert len(cache) == 0


def test_when_full_the_least_recently_used_copy_makes_room() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=30.0, max_size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_forgetting_links_makes_every_link_copy_stale_and_no_other() -> None:
    links: TTLCache[str, str] = TTLCache(ttl=30.0, max_size=10, version=cache_versions.LINKS)
    projects: TTLCache[str, str] = TTLCache(ttl=30.0, max_size=10, version=cache_versions.PROJECTS)
    plain: TTLCache[str, str] = TTLCache(ttl=30.0, max_size=10)
    for cache in (links, projects, plain):
        cache.put("k", "v")
    forget_links()
    assert (links.get("k"), projects.get("k"), plain.get("k")) == (None, "v", "v")
    forget_projects()
    assert (projects.get("k"), plain.get("k")) == (None, "v")


def test_a_copy_read_while_its_rows_changed_is_not_kept() -> None:
    """`stamp()` before the read, `put(..., stamp)` after: an edit in between wins."""
    links: TTLCache[str, str] = TTLCache(ttl=30.0, max_size=10, version=cache_versions.LINKS)
    stamp = links.stamp()
    forget_links()  # committed while the row was being read
    links.put("spring", "the old row", stamp)
    assert links.get("spring") is None
    links.put("spring", "the new row", links.stamp())
    assert links.get("spring") == "the new row"


def test_threads_share_one_cache() -> None:
    cache: TTLCache[int, int] = TTLCache(ttl=30.0, max_size=100, version=cache_versions.LINKS)
    failures: list[BaseException] = []

    def churn(offset: int) -> None:
        try:
            for i in range(2_000):
                cache.put((i + offset) % 300, i)
                cache.get((i * 7 + offset) % 300)
                if i % 500 == 0:
                    forget_links()
        except BaseException as error:  # pragma: no cover - the failure being tested for
            failures.append(error)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) <= 100
