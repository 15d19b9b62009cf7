"""The admin's pages: the user directory, care teams, clinic settings and webhooks."""

from services.web.admin import care_teams, clinic_settings, directory, webhooks

ROUTES = [*directory.ROUTES, *care_teams.ROUTES, *clinic_settings.ROUTES, *webhooks.ROUTES]
