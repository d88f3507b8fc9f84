"""Task commands: each one decision on one task, with the group read from its own aggregate (never
stale) by the chat's ``group_facts`` — whether the caller is a member, who the members are (assignees
must be), whether they coordinate it."""

from __future__ import annotations

from collections.abc import Callable

from uuid6 import uuid7

from libs.contracts import tasks as t
from libs.kit.rpc import Context, Done
from libs.kit.service import Executed, Service, meta_of
from services.groups import task_domain as d
from services.groups.chat_domain import GroupFacts
from services.groups.chat_handlers import group_facts
from services.groups.handlers import signed_in

TaskChange = (t.EditTask | t.AssignTask | t.SetTaskDueDate | t.ChangeTaskStatus | t.AddChecklistItem
              | t.CheckChecklistItem | t.RemoveChecklistItem | t.CommentOnTask | t.DeleteTask)


def register_task_handlers(svc: Service) -> None:
    @svc.command(t.CreateTask)
    async def create_task(cmd: t.CreateTask, ctx: Context) -> Done:
        signed_in(ctx)
        task_id = str(uuid7())
        group = await group_facts(svc, cmd.group_id, ctx)
        done = await svc.decide(d.TASK, task_id, d.Create(ctx.actor, task_id, cmd.group_id, cmd.title, cmd.description,
                                                          cmd.assignees, cmd.due, group), meta_of(ctx))
        return Done(done.seq, t.TaskReply(group_id=cmd.group_id, task_id=task_id, status=done.state.status))

    async def change(cmd: TaskChange, ctx: Context, decided: Callable[[GroupFacts], d.TaskCommand]) -> Executed:
        """A change to an existing task, decided with what the group is now."""
        signed_in(ctx)
        return await svc.decide(d.TASK, cmd.task_id, decided(await group_facts(svc, cmd.group_id, ctx)),
                                meta_of(ctx))

    def task_reply(cmd: TaskChange, done: Executed) -> Done:
        return Done(done.seq, t.TaskReply(group_id=cmd.group_id, task_id=cmd.task_id, status=done.state.status))

    def item_reply(cmd: TaskChange, done: Executed, item_id: str) -> Done:
        return Done(done.seq, t.ChecklistItemReply(group_id=cmd.group_id, task_id=cmd.task_id, item_id=item_id))

    @svc.command(t.EditTask)
    async def edit_task(cmd: t.EditTask, ctx: Context) -> Done:
        return task_reply(cmd, await change(cmd, ctx, lambda g: d.Edit(ctx.actor, cmd.group_id, cmd.title,
                                                                       cmd.description, g)))

    @svc.command(t.AssignTask)
    async def assign_task(cmd: t.AssignTask, ctx: Context) -> Done:
        return task_reply(cmd, await change(cmd, ctx, lambda g: d.Assign(ctx.actor, cmd.group_id, cmd.assignees, g)))

    @svc.command(t.SetTaskDueDate)
    async def set_task_due_date(cmd: t.SetTaskDueDate, ctx: Context) -> Done:
        return task_reply(cmd, await change(cmd, ctx, lambda g: d.SetDue(ctx.actor, cmd.group_id, cmd.due, g)))

    @svc.command(t.ChangeTaskStatus)
    async def change_task_status(cmd: t.ChangeTaskStatus, ctx: Context) -> Done:
        return task_reply(cmd, await change(cmd, ctx, lambda g: d.Move(ctx.actor, cmd.group_id, cmd.status,
                                                                       cmd.from_status, g)))

    @svc.command(t.DeleteTask)
    async def delete_task(cmd: t.DeleteTask, ctx: Context) -> Done:
        return task_reply(cmd, await change(cmd, ctx, lambda g: d.Delete(ctx.actor, cmd.group_id, g)))

    @svc.command(t.AddChecklistItem)
    async def add_checklist_item(cmd: t.AddChecklistItem, ctx: Context) -> Done:
        item_id = str(uuid7())
        done = await change(cmd, ctx, lambda g: d.AddItem(ctx.actor, cmd.group_id, item_id, cmd.text, g))
        return item_reply(cmd, done, item_id)

    @svc.command(t.CheckChecklistItem)
    async def check_checklist_item(cmd: t.CheckChecklistItem, ctx: Context) -> Done:
        done = await change(cmd, ctx, lambda g: d.CheckItem(ctx.actor, cmd.group_id, cmd.item_id, cmd.checked, g))
        return item_reply(cmd, done, cmd.item_id)

    @svc.command(t.RemoveChecklistItem)
    async def remove_checklist_item(cmd: t.RemoveChecklistItem, ctx: Context) -> Done:
        done = await change(cmd, ctx, lambda g: d.RemoveItem(ctx.actor, cmd.group_id, cmd.item_id, g))
        return item_reply(cmd, done, cmd.item_id)

    @svc.command(t.CommentOnTask)
    async def comment_on_task(cmd: t.CommentOnTask, ctx: Context) -> Done:
        comment_id = str(uuid7())
        done = await change(cmd, ctx, lambda g: d.Comment(ctx.actor, cmd.group_id, comment_id, cmd.text, g))
        return Done(done.seq, t.TaskCommentReply(group_id=cmd.group_id, task_id=cmd.task_id, comment_id=comment_id))
