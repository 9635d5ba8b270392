# Every target sets up what it needs on a fresh machine: a tool venv with uv (installed with
# pip when uv is absent), then the project venv from the committed uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv/.synced
PYTEST_ARGS ?=

.PHONY: demo test bench lint i18n clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

# DEMO_ARGS passes options to `cordon demo`, e.g. DEMO_ARGS="--port 8080 --data-dir /tmp/cordon".
demo: $(VENV)
	$(UV) run --frozen cordon demo $(DEMO_ARGS)

test: $(VENV)
	$(UV) run --frozen pytest $(PYTEST_ARGS)

bench: $(VENV)
	$(UV) sync --frozen --group peers
	$(UV) run --frozen --group peers python -m bench

lint: $(VENV)
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen mypy src/cordon
	$(UV) run --frozen mypy --strict src/cordon/*/rules.py src/cordon/codes/rules src/cordon/security

# Refresh the message catalogs after changing strings in templates or code; translate the new
# entries in the zh_CN .po (the tests fail while any is missing). Catalogs are read at run time.
i18n: $(VENV)
	$(UV) run --frozen pybabel extract -F babel.cfg --no-location --sort-output \
		$$(.venv/bin/python -c "from cordon.web.messages import EXTRACT_KEYWORDS as k; print(' '.join('-k ' + w for w in k))") \
		--project Cordon --copyright-holder Cordon -o src/cordon/web/i18n/messages.pot .
	$(UV) run --frozen pybabel update -i src/cordon/web/i18n/messages.pot \
		-d src/cordon/web/i18n -l zh_CN --ignore-obsolete

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
