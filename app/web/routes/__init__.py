"""The web's routes, grouped by audience: signing in, my work, instances (the action page
and any workflow's), the councils, the admins, the public, and scripts (the JSON API)."""
