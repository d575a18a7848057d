"""The web face of pdca: server-rendered pages for owners, chairs and admins, and a JSON
API for scripts, both calling the same services as the CLI."""
