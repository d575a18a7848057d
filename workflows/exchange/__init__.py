"""The promotion council's exchange of information: topics with replies, linked to actions."""
