"""The workflow core: specs, the machine runtime, persistence and audit.

It knows nothing of the web, the CLI, email, or any city's process; those plug in through
`engine.runtime.Store` and the specs in `workflows/`.
"""
