"""The words people read, in Japanese and English: one catalogue (`catalogue.py`) for every
refusal, field problem, page, kind of message, milestone and flag; a workflow's own states,
steps, roles and choices are named in its spec and looked up through the same `say`."""
