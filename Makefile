# Two commands: `make demo` and `make test`. Everything installs from hash-pinned
# locks in requirements/ (compiled with uv, `make lock` refreshes them).
PYTHON ?= python3.11
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
STUDIO_VENV := .venv-studio
PY     := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1
SAMPLES ?= $(if $(wildcard ../shared/samples/*.txt),../shared/samples,examples)

.PHONY: demo test test-fast test-scale install install-studio chromium lock bench clean

demo: install install-studio
	$(VENV)/bin/quotes demo $(SAMPLES)

test: install install-studio chromium
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not studio and not slow"

test-scale: $(VENV)/.ray-installed
	$(PY) -m pytest -q -m ray

install: $(VENV)/.installed
install-studio: $(STUDIO_VENV)/.installed

# tests/ui drive Debian's Chromium (Playwright with executable_path; no browser download)
chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update && apt-get install -y chromium chromium-driver; } \
	  || echo "could not install chromium chromium-driver (apt-get needs root): tests/ui will be skipped"

$(UV): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/tools.txt
	touch $(UV)

$(VENV)/.installed: $(UV) requirements/lock.txt pyproject.toml
	test -x $(PY) || $(UV) venv -q --python $(PYTHON) $(VENV)
	$(UV) pip sync -q --python $(PY) --require-hashes requirements/lock.txt
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.ray-installed: $(VENV)/.installed requirements/lock-ray.txt
	$(UV) pip sync -q --python $(PY) --require-hashes requirements/lock-ray.txt
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

$(STUDIO_VENV)/.installed: $(UV) requirements/studio.txt
	test -x $(STUDIO_VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(STUDIO_VENV)
	$(UV) pip sync -q --python $(STUDIO_VENV)/bin/python --require-hashes requirements/studio.txt
	touch $@

lock: $(UV)
	$(UV) pip compile -q pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 -o requirements/lock.txt
	$(UV) pip compile -q pyproject.toml --extra test --extra ray --generate-hashes --universal --python-version 3.11 -o requirements/lock-ray.txt
	$(UV) pip compile -q requirements/studio.in --generate-hashes --universal --python-version 3.11 -o requirements/studio.txt

bench: install install-studio
	$(PY) bench/ingest.py
	$(PY) bench/propose.py
	$(PY) bench/export.py
	$(PY) bench/studio.py
	$(PY) bench/scale.py
	$(PY) bench/effort.py

clean:
	-test -x $(VENV)/bin/quotes && $(VENV)/bin/quotes studio stop >/dev/null 2>&1
	rm -rf $(VENV) $(STUDIO_VENV) $(TOOLS) .pytest_cache
