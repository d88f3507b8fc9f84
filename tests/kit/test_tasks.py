import asyncio

from libs.kit.tasks import cancel_and_wait


async def test_a_task_that_lost_its_cancellation_is_stopped_all_the_same():
    """The way Python 3.11's wait_for drops a cancellation meeting a reply: the task goes on to its next
    sleep. One cancel and an await would wait for ever; the task must still stop, and a stop must end."""
    swallowed = []

    async def loop():
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if not swallowed:
                    swallowed.append(True)
                    continue  # the lost cancellation
                raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    await asyncio.wait_for(cancel_and_wait(task), timeout=5)
    assert swallowed and task.cancelled()


async def test_a_task_that_failed_reports_its_failure_on_stop():
    async def fail():
        raise RuntimeError("boom")

    task = asyncio.create_task(fail())
    await asyncio.sleep(0)
    try:
        await cancel_and_wait(task)
    except RuntimeError as e:
        assert str(e) == "boom"
    else:
        raise AssertionError("a failure was swallowed on stop")
