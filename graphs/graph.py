"""plan → execute → draft → check → (look again?) → route → (review | auto-approve) → finalize.

Read top to bottom: the nodes (graphs/nodes.py), the routers that choose between
branches, how they connect, and `build_graph`, which compiles the graph over a
checkpointer so that a job waiting for review, or a process killed mid-run, continues
from its last checkpoint after a restart. Every branch is a conditional edge here;
no node hides an `if` that decides where the job goes next.
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs import nodes
from graphs.context import GraphContext
from graphs.evidence import found_something
from graphs.state import JobInput, JobState


def after_execute(state: JobState) -> Literal["draft", "route"]:
    """Draft from the evidence; a later round that found nothing new leaves the draft as it was."""
    current = state.get("round", 1)
    if current == 1:
        return "draft"
    this_round = {s["id"] for s in state["plan"] if s.get("round", 1) == current}
    return "draft" if any(found_something(s) for s in state["steps"] if s["step"] in this_round) else "route"


def after_check(state: JobState) -> Literal["replan", "route"]:
    """Look again when the check says another round may answer the question."""
    return "replan" if state.get("look_again") else "route"


def after_replan(state: JobState) -> Literal["execute", "route"]:
    """Run the new round's steps; when the planner chose none, the draft stands."""
    planned = {s["id"] for s in state["plan"]}
    ran = {s["step"] for s in state.get("steps", [])}
    return "execute" if planned - ran else "route"


def after_route(state: JobState) -> Literal["review", "auto_approve"]:
    """A person reviews unless the policy approved the draft by rule."""
    return "auto_approve" if state["routing"]["route"] == "auto" else "review"


builder = StateGraph(JobState, context_schema=GraphContext, input_schema=JobInput)
builder.add_node("plan", nodes.plan)
builder.add_node("execute", nodes.execute)
builder.add_node("draft", nodes.draft)
builder.add_node("check", nodes.check)
builder.add_node("replan", nodes.replan)
builder.add_node("route", nodes.route)
builder.add_node("review", nodes.review)
builder.add_node("auto_approve", nodes.auto_approve)
builder.add_node("finalize", nodes.finalize)

builder.add_edge(START, "plan")
builder.add_edge("plan", "execute")
builder.add_conditional_edges("execute", after_execute)
builder.add_edge("draft", "check")
builder.add_conditional_edges("check", after_check)
builder.add_conditional_edges("replan", after_replan)
builder.add_conditional_edges("route", after_route)
builder.add_edge("review", "finalize")
builder.add_edge("auto_approve", "finalize")
builder.add_edge("finalize", END)


def build_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph[JobState, GraphContext, JobInput, JobState]:
    """The compiled job graph over `checkpointer`."""
    return builder.compile(checkpointer=checkpointer)
