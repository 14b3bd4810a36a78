"""Storage: every table, file and checkpoint jimoku keeps, behind one database handle.

- `db`: the handle (SQLite on one machine, PostgreSQL to scale out) and its protocol;
- `migrations`: the schema, and the PostgreSQL extras other owners register;
- `jobs`, `event_log`, `artifacts`, `outcomes`, `policies`, `keys`, `results`: one store each;
- `checkpointers`: LangGraph's savers over the same database;
- `stores`: all of them opened together from the settings.

Nothing here imports the engine, the queue or the API: they import this.
"""
