"""The LangGraph state machine: plan, execute, draft, check, review, finalize."""
