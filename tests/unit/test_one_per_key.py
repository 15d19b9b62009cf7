"""A batch never holds two appends to one stream: a stream's second append waits for a later
run, after the first one's, and every item still gets its own result, in order."""

from infra.db.batches import one_per_key


async def test_a_keys_second_item_waits_for_a_later_run_and_results_keep_their_order() -> None:
    runs: list[list[str]] = []

    async def run(items: list[str]) -> list[str]:
        runs.append(items)
        return [item.upper() for item in items]

    items = ["a1", "b1", "a2", "c1", "a3", "b2"]
    results = await one_per_key(items, lambda item: item[0], run)

    assert results == ["A1", "B1", "A2", "C1", "A3", "B2"]
    assert runs == [["a1", "b1", "c1"], ["a2", "b2"], ["a3"]]


async def test_distinct_keys_go_in_one_run() -> None:
    runs: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        runs.append(items)
        return [-item for item in items]

    assert await one_per_key([1, 2, 3], lambda item: item, run) == [-1, -2, -3]
    assert runs == [[1, 2, 3]]
