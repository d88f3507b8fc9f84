"""A working group's shared drive in the browser, against the real platform: a member uploads a file
through the page (the script sends it as it is, with a progress bar; the web client streams it on), another
member downloads it byte for byte and uploads a new version; a file goes to the bin and comes back; the
bin refuses an ordinary member's "erase for good" in the platform's words; an outsider of a members-only
group is refused the drive."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.web import test_tasks_browser
from tests.web.test_chat import click, fits
from tests.web.test_groups import settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname

NAME = "Отчёт «весна».pdf"


async def saved(download) -> bytes:
    """What the browser saved of a download."""
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


#: the tasks' pair (a members-only group opened by Anna, Boris in it), for this module too
team = test_tasks_browser.team


@pytest.fixture(scope="module")
async def crew(web, team) -> dict:
    """Anna's group with Boris in it, and Olga outside it: name -> (member_id, email, full name)."""
    name = surname()
    member_id, email = await colleague(web, name)
    return {**team, "olga": (member_id, email, f"Зинаида {name}")}


async def test_a_file_uploaded_by_one_member_is_downloaded_by_another_byte_for_byte(people, web, crew):
    group_id, drive = crew["group"], f"/groups/{crew['group']}/drive"
    anna, boris = await people("drive-anna"), await people("drive-boris", width=360, height=800)
    await asyncio.gather(sign_in(anna, crew["anna"][1]), sign_in(boris, crew["boris"][1]))
    data = os.urandom(1_500_000)

    # Anna goes from the group's page to its files and uploads one through the form
    await anna.open(f"/groups/{group_id}")
    await click(anna, anna.page.locator("#drive-link"), "drive-empty")
    assert "Занято 0 Б" in await anna.page.locator("#drive-space").inner_text()
    await anna.page.set_input_files("#upload-form-file", files=[{"name": NAME, "mimeType": "application/pdf",
                                                                 "buffer": data}])
    await anna.submit("Загрузить", "uploaded")
    assert f"Файл «{NAME}» загружен." in await anna.text()
    row = anna.page.locator("#files li.file", has_text=NAME)
    assert "1,4 МБ" in await row.inner_text() and "версия 1" in await row.inner_text()
    file_id = await row.get_attribute("data-file")

    # Boris, on his phone, downloads it: the same bytes, under its name
    await boris.open(drive, "drive-boris")
    async with boris.page.expect_download() as info:
        await boris.page.locator(f"#file-{file_id} a.download").click()
    got = await info.value
    assert got.suggested_filename == NAME
    assert await saved(got) == data
    await fits(boris, "drive-phone")

    # and uploads a new version on the file's page; both versions are there, the first still downloadable
    second = os.urandom(2048)
    await click(boris, boris.page.locator(f"#file-{file_id} .file-name a"), "file")
    await boris.page.locator("#drive-file details.rename summary").click()
    await boris.page.get_by_label("Новое имя").fill("Отчёт итог.pdf")
    await boris.submit("Сохранить имя", "renamed")
    assert await boris.page.locator("#file-name").inner_text() == "Отчёт итог.pdf"
    await boris.page.set_input_files("#version-form-file", files=[{"name": "v2.pdf", "mimeType": "application/pdf",
                                                                   "buffer": second}])
    await boris.submit("Загрузить версию", "version")
    assert "Новая версия" in await boris.text()
    assert await boris.page.locator("#versions li.file").count() == 2
    async with boris.page.expect_download() as info:
        await boris.page.locator("#version-1 a.download").click()
    assert await saved(await info.value) == data


async def test_a_binned_file_is_restored_from_the_bin_and_outsiders_are_refused(people, web, crew):
    group_id, drive = crew["group"], f"/groups/{crew['group']}/drive"
    async with web.client(await token_of(web, crew["anna"][1])) as c:
        r = await c.post(f"/v1/groups/{group_id}/files", params={"name": "Смета.xlsx"}, content=b"x" * 1000,
                         headers={"Content-Type": "application/vnd.ms-excel"})
        assert r.status_code == 201, r.text
    file_id = r.json()["file_id"]
    await settle_views(web)
    boris, olga = await people("bin-boris"), await people("drive-outsider")
    await asyncio.gather(sign_in(boris, crew["boris"][1]), sign_in(olga, crew["olga"][1]))

    # Boris moves it to the bin: gone from the files, in the bin with the day it will be erased
    await boris.open(drive, "before-bin")
    await click(boris, boris.page.locator(f"#file-{file_id}").get_by_role("button", name="В корзину — Смета.xlsx"),
                "binned")
    assert "перемещён в корзину" in await boris.text()
    assert await boris.page.locator(f"#files #file-{file_id}").count() == 0
    await click(boris, boris.page.locator("#bin-link"), "bin")
    entry = boris.page.locator(f"#bin #file-{file_id}")
    assert "Будет удалён навсегда" in await entry.locator("[data-purge]").inner_text()

    # erasing for good is for coordinators and moderators: the platform's refusal is shown on the bin
    await entry.locator("summary").click()
    await click(boris, entry.get_by_role("button", name="Да, удалить навсегда — Смета.xlsx"), "purge-refused")
    assert "координаторам" in await boris.page.locator("#form-error").inner_text()
    assert await boris.page.locator(f"#bin #file-{file_id}").count() == 1

    # restored, it is back among the files
    await click(boris, boris.page.locator(f"#bin #file-{file_id}").get_by_role("button", name="Восстановить — Смета.xlsx"),
                "restored")
    assert "восстановлен" in await boris.text()
    await boris.open(drive, "after-restore")
    assert await boris.page.locator(f"#files #file-{file_id}").count() == 1

    # Olga is not in the group: no drive, no file, no download
    for path in (drive, f"{drive}/bin", f"{drive}/files/{file_id}", f"{drive}/files/{file_id}/download"):
        response = await olga.open(path, "outsider")
        assert response.status == 403, path
        assert "Нет доступа" in await olga.text() and await olga.page.locator("#files").count() == 0
    # nor an upload, sent as the page's script sends one: the platform's words come back to be shown
    said = await olga.page.evaluate("""async (url) => {
        const csrf = document.querySelector('input[name="csrf"]').value;
        const r = await fetch(url, {method: "POST", body: new Blob(["abc"]),
                                    headers: {"X-CSRF-Token": csrf, "Content-Type": "text/plain"}});
        return [r.status, await r.json()];
    }""", f"{drive}/files?name=x.txt")
    assert said[0] == 403 and "участник" in said[1]["error"], said
    olga.js_errors[:] = [e for e in olga.js_errors if not e.startswith("403 ") or "/drive/files" not in e]
