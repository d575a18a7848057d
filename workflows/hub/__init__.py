"""The information hub (情報拠点): what partners send (observations, activity reports), its
curation as a workflow of its own, and what the public may see of it."""
