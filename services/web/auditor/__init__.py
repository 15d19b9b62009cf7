"""The auditor's pages: a goal's history, and the access log."""

from services.web.auditor import access_log, history

ROUTES = [*access_log.ROUTES, *history.ROUTES]
