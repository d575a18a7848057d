"""Messages to people: rendering the outbox in each recipient's language, and delivering it
(SMTP, files, console) exactly once per dedupe key."""
