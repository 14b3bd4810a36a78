"""plan → execute → draft → check → route → review → finalize; a person decides at review.

Read top to bottom: the nodes (graphs/nodes.py), how they connect, and `build_graph`,
which compiles the graph over a checkpointer so that a job waiting for review, or a
process killed mid-run, continues from its last checkpoint after a restart.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs import nodes
from graphs.context import GraphContext
from graphs.state import JobInput, JobState

builder = StateGraph(JobState, context_schema=GraphContext, input_schema=JobInput)
builder.add_node("plan", nodes.plan)
builder.add_node("execute", nodes.execute)
builder.add_node("draft", nodes.draft)
builder.add_node("check", nodes.check)
builder.add_node("route", nodes.route)
builder.add_node("review", nodes.review)
builder.add_node("finalize", nodes.finalize)

builder.add_edge(START, "plan")
builder.add_edge("plan", "execute")
builder.add_edge("execute", "draft")
builder.add_edge("draft", "check")
builder.add_edge("check", "route")
builder.add_edge("route", "review")
builder.add_edge("review", "finalize")
builder.add_edge("finalize", END)


def build_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph:
    """The compiled job graph over `checkpointer`."""
    return builder.compile(checkpointer=checkpointer)
