"""A working group's tasks in the browser, against the real platform: a member creates a task on the
board, assigns it, moves its card to another column by a button, and another member's board shows it
there; the task's page keeps its checklist and comments; "my tasks" marks the overdue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.groups.task_queries import today
from tests.web.test_chat import click, fits
from tests.web.test_groups import a_group, settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname


@pytest.fixture(scope="module")
async def team(web) -> dict:
    """A members-only group opened by Anna, with Boris in it: name -> (member_id, email, full name)."""
    people = {}
    for key in ("anna", "boris"):
        name = surname()
        member_id, email = await colleague(web, name)
        people[key] = (member_id, email, f"Зинаида {name}")
    group_id = await a_group(web, people["anna"][1], f"Задачи {people['anna'][2]}", content="members",
                             joining="open")
    async with web.client(await token_of(web, people["boris"][1])) as c:
        assert (await c.post(f"/v1/groups/{group_id}/join", json={})).status_code == 200
    await settle_views(web)
    return {**people, "group": group_id}


async def test_a_card_moved_by_one_member_is_in_the_new_column_on_anothers_board(people, web, team):
    group_id, board = team["group"], f"/groups/{team['group']}/tasks"
    _, anna_email, _ = team["anna"]
    boris_id, boris_email, boris_name = team["boris"]
    anna, boris = await people("tasks-anna"), await people("tasks-boris", width=360, height=800)
    await asyncio.gather(sign_in(anna, anna_email), sign_in(boris, boris_email))

    # Anna goes from the group's page to its board and creates a task for Boris
    await anna.open(f"/groups/{group_id}")
    await click(anna, anna.page.locator("#tasks-link"), "board-empty")
    await anna.page.get_by_label("Название").fill("Подготовить раздатку")
    await anna.page.get_by_label("Описание").fill("К четвергу, 20 экземпляров")
    await anna.page.locator("#new-assignees").get_by_label(boris_name).check()
    await anna.submit("Создать задачу", "created")
    assert await anna.page.locator("#task-title").inner_text() == "Подготовить раздатку"
    assert boris_name in await anna.page.locator("#task-assignees").inner_text()
    task_id = await anna.page.locator("#task").get_attribute("data-task")

    # Boris's board shows it to do
    await boris.open(board, "board-before")
    assert await boris.page.locator(f"#column-todo #task-{task_id}").count() == 1
    await fits(boris, "board-phone")

    # Anna moves the card to "in progress" by its button on the board
    await anna.open(board, "board-anna")
    await click(anna, anna.page.locator(f"#task-{task_id}").get_by_role("button", name="→ В работу"), "moved")
    assert await anna.page.locator(f"#column-in_progress #task-{task_id}").count() == 1
    await settle_views(web)

    # Boris's board, open since before the move: his button still moves it from "to do" — refused with a
    # clear word, and the board he is shown has it in the new column
    await click(boris, boris.page.locator(f"#task-{task_id}").get_by_role("button", name="→ Готово"), "stale")
    assert "уже перенесли" in await boris.text()
    assert await boris.page.locator(f"#column-in_progress #task-{task_id}").count() == 1
    assert await boris.page.locator(f"#column-todo #task-{task_id}").count() == 0
    await boris.open(board, "board-after")
    assert await boris.page.locator(f"#column-in_progress #task-{task_id}").count() == 1

    # the task's page: a checklist item checked, a comment with its author
    await boris.open(f"{board}/{task_id}", "task")
    await boris.page.get_by_label("Новый пункт").fill("Распечатать")
    await boris.submit("Добавить пункт", "item")
    await click(boris, boris.page.locator("#checklist").get_by_role("button", name="☐ Распечатать"), "checked")
    assert await boris.page.locator("#checklist li.checked").count() == 1
    await boris.page.get_by_label("Комментарий").fill("Печатаю в среду")
    await boris.submit("Отправить", "commented")
    assert "Печатаю в среду" in await boris.page.locator("#comments").inner_text()
    await fits(boris, "task-phone")


async def test_my_tasks_marks_the_overdue_first(people, web, team):
    group_id = team["group"]
    boris_id, boris_email, _ = team["boris"]
    async with web.client(await token_of(web, boris_email)) as c:
        for title, days in (("Вовремя", 5), ("Просрочено", -2)):
            r = await c.post(f"/v1/groups/{group_id}/tasks", json={
                "title": title, "assignees": [boris_id], "due": (today() + timedelta(days=days)).isoformat()})
            assert r.status_code == 201, r.text
    await settle_views(web)
    boris = await people("tasks-mine")
    await sign_in(boris, boris_email)
    await boris.open("/tasks", "mine")
    cards = boris.page.locator("#my-tasks li.task-card")
    assert "Просрочено" in await cards.first.inner_text()
    assert "просрочена" in await cards.first.inner_text()
    assert await cards.first.locator("[data-overdue]").count() == 1
    assert await boris.page.locator("#my-tasks li.task-card", has_text="Вовремя").locator("[data-overdue]").count() == 0
    assert await boris.page.locator("#nav-tasks").count() == 1
