# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export FLASK_APP := wsgi

# WeasyPrint's libraries and the one font the reports use.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
# Browser tests drive Debian's Chromium; axe-core comes from npm (Debian's
# nodejs and npm only where no npm is on the machine already). The W3C Nu HTML
# checker (npm's vnu-jar) runs on Java.
TEST_SYSTEM_PACKAGES := chromium default-jre-headless $(shell command -v npm >/dev/null || echo nodejs npm)

.PHONY: run setup system test test-fast test-setup lint frontend bench replication-setup

# With PEERREVIEW_REPLICA set, `make run` also replicates the database with
# Litestream (its binary comes from npm: node_modules/@flydotio/).
REPLICATION := $(if $(PEERREVIEW_REPLICA),replication-setup)

run: setup $(REPLICATION)
	$(BIN)/flask db migrate
	$(BIN)/flask demo load --if-empty
	@echo "Two-step sign-in secrets are sealed with the key in $$([ -n "$$PEERREVIEW_SECOND_FACTOR_KEY" ] && echo PEERREVIEW_SECOND_FACTOR_KEY || echo instance/second_factor_key): back it up apart from the database (README: The two-step sign-in key)"
	@echo "peerreview is at http://127.0.0.1:5000 (Ctrl-C stops it)"
	@# Web: gunicorn's stock threaded worker (gthread), 2 processes (one per
	@# core) of 4 threads each (tests/bench/bench_saves.py measures it).
	@# The report render worker and, when configured, Litestream run beside
	@# the web workers and stop with them.
	$(BIN)/huey_consumer peerreview.reports.jobs.huey --workers 2 --worker-type process --delay 0.1 --max-delay 0.5 & \
	  others=$$!; \
	  if [ -n "$$PEERREVIEW_REPLICA" ]; then $(BIN)/flask db replicate & others="$$others $$!"; fi; \
	  trap 'kill $$others 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn --worker-class gthread --workers 2 --threads 4 --bind 127.0.0.1:5000 --access-logfile - wsgi:app

replication-setup:
	$(MAKE) system EXTRA_PACKAGES="$(shell command -v npm >/dev/null || echo nodejs npm)"
	$(MAKE) node_modules/.installed

setup: system $(VENV)/.installed

system:
	@missing=$$(for p in $(SYSTEM_PACKAGES) $(EXTRA_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# npm install, not npm ci: the lock names Litestream's binary for this
# platform only (the registry here serves no darwin or arm64 builds), and
# npm ci refuses a lock without every optional platform package.
node_modules/.installed: package.json package-lock.json
	npm install --no-save --no-audit --no-fund --loglevel=error
	touch $@

test-setup:
	$(MAKE) system EXTRA_PACKAGES="$(TEST_SYSTEM_PACKAGES)"
	$(MAKE) $(VENV)/.installed node_modules/.installed

test: test-setup
	$(BIN)/pytest -q

# The edit-test loop: no browser journeys, no real servers or processes.
test-fast: $(VENV)/.installed
	$(BIN)/pytest -q -m "not browser and not slow"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

frontend: node_modules/.installed
	npm run build:frontend

# The save benchmark's load generator is Debian's wrk (tests/bench/bench_saves.py).
bench:
	$(MAKE) system EXTRA_PACKAGES=wrk
	$(MAKE) $(VENV)/.installed
	$(BIN)/python tests/bench/bench_saves.py
