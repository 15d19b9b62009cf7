"""The web app: server-rendered pages on the same writer and projections as the API
(docs/web.md)."""
