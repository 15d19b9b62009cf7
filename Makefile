# The project's commands. `make` alone lists them.
PYTHON ?= python3
UV_VERSION := 0.13.9
# uv is installed, pinned, into a private virtualenv so that no system Python is touched.
UV := .tools/bin/uv
RUN := $(UV) run --frozen

.DEFAULT_GOAL := help
.PHONY: help setup run migrate api worker test lint typecheck unit browser mutate bench soak clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV) ## install the locked dependencies into .venv
	$(UV) sync --frozen

# The web app's cookies are Secure unless the app is served over plain http on loopback, which
# `make run` says it is unless told otherwise.
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:8000
run: setup ## set up, migrate, and run the API, the web app and the workers (local or embedded PostgreSQL/Redis)
	$(RUN) goals migrate
	$(RUN) goals serve

migrate: setup ## create the database if missing and apply pending migrations
	$(RUN) goals migrate

lint: setup ## ruff: lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup ## mypy (strict on domain/ and infra/)
	$(RUN) mypy

unit: setup ## the pure tests only: no database needed
	$(RUN) pytest tests/unit -q

# The browser tests drive Debian's Chromium through Playwright (never a browser of Playwright's
# own). Installed here where missing; where apt cannot, those tests skip and say why.
browser: ## install Debian's Chromium for the browser tests, if missing
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium from Debian's packages for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			>/dev/null 2>&1 || echo "Chromium could not be installed: the browser tests will be skipped."; \
	}

test: lint typecheck browser ## set up, lint, type-check and run the whole suite (browser tests included)
	$(RUN) pytest -q

mutate: setup ## mutation testing of the event store, the writer, the feed and the rebuild (docs/testing.md)
	$(RUN) mutmut run --max-children 2
	$(RUN) mutmut results

bench: setup ## run every benchmark (see docs/benchmarks.md)
	$(RUN) python -m bench.append_throughput
	$(RUN) python -m bench.api_checkins
	$(RUN) python -m bench.projection_lag
	$(RUN) python -m bench.rate_limit_flood
	$(RUN) python -m bench.webhook_delivery
	$(RUN) python -m bench.evolve_cost
	$(RUN) python -m bench.history_cost
	$(RUN) python -m bench.web_pages

MINUTES ?= 10
soak: setup ## faults at random under load for MINUTES (10), on throwaway servers; see docs/reliability.md
	$(RUN) python -m tests.faults.soak --minutes $(MINUTES)

clean: ## remove the virtualenvs and caches
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
